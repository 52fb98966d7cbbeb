/**
 * @module In-memory collector, for tests and library use (`collect` in
 * `sluice/sinks`; here so `runCollect` in this layer can use it). At-least-once: on a
 * resumed run it only holds what this process saw.
 */
import { type Sink, SinkTypeId } from "../types.ts";

export interface CollectSink<A> extends Sink<A> {
  /** Records written so far, in order. */
  readonly records: A[];
  /** Checkpoint ids committed so far. */
  readonly commits: number[];
}

/**
 * Collects every record in memory.
 *
 * @example
 * ```ts
 * const out = collect<number>();
 * await runPipeline(pipeline("p").from(iterable([1, 2])).to(out));
 * out.records; // [1, 2]
 * ```
 */
export function collect<A = unknown>(): CollectSink<A> {
  const records: A[] = [];
  const commits: number[] = [];
  return {
    [SinkTypeId]: true,
    name: "collect()",
    delivery: "at-least-once",
    records,
    commits,
    async open() {
      return {
        target: "memory",
        write(chunk) {
          for (let i = 0; i < chunk.records.length; i++) records.push(chunk.records[i]);
        },
        commit(id) {
          commits.push(id);
          return id;
        },
        async close() {},
      };
    },
  };
}
