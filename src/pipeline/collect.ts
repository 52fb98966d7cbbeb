/**
 * @module Terminals for tests and library use: run a pipeline and get its
 * records, or its summary.
 */
import { collect } from "./internal/collect-sink.ts";
import type { Pipeline } from "./pipeline.ts";
import { type RunOptions, type RunSummary, runPipeline } from "./run.ts";

/**
 * Runs the pipeline into memory (ignoring its sink) and returns the records.
 * Throws the run's error if it failed.
 *
 * @example
 * ```ts
 * const out = await runCollect(pipeline("p").from(iterable([1, 2])).via(map((n) => n + 1)));
 * // [2, 3]
 * ```
 */
export async function runCollect<A>(p: Pipeline<A>, options: RunOptions = {}): Promise<A[]> {
  const sink = collect<A>();
  const summary = await runPipeline(p.to(sink) as Pipeline<unknown>, options);
  if (summary.error) throw summary.error;
  return sink.records;
}

/** Runs the pipeline and returns its summary; throws if the run failed. */
export async function runDrain(p: Pipeline<unknown>, options: RunOptions = {}): Promise<RunSummary> {
  const summary = await runPipeline(p, options);
  if (summary.error) throw summary.error;
  return summary;
}
