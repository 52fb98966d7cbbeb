/**
 * @module `circuitBreaker`: stops sending records to a stage that keeps
 * failing. Closed: records go to the stage `callSize` at a time and every
 * outcome lands in a sliding time window; when at least `minCalls` outcomes
 * are in it and the failure rate reaches `failureRate`, the circuit opens.
 * Open: records fail at once with `CircuitOpenError` (or get the `fallback`
 * value) without touching the stage, until `openFor` has passed on the
 * injected clock. Half-open: the next `halfOpenCalls` records are trial
 * calls; if all succeed the circuit closes (with an empty window), if one
 * fails it opens again. Every transition is a `circuit.state` event.
 */
import { z } from "zod";
import type { Chunk } from "../pipeline/chunk.ts";
import type { Operator } from "../pipeline/types.ts";
import type { Duration } from "../pipeline/units.ts";
import { CircuitOpenError } from "./errors.ts";
import { innerHooks, innerStage, type Outcome, settleOutcomes } from "./internal/inner-stage.ts";
import { makeOperator } from "./internal/operator.ts";
import { DurationSchema, fn, parseOptions } from "./internal/options.ts";
import { type FallbackFn, recoverOutcomes } from "./internal/recover.ts";
import { SlidingWindow } from "./internal/resilience.ts";

/** Validation and documentation of `circuitBreaker()` options. */
export const CircuitBreakerOptionsSchema = z
  .object({
    failureRate: z.number().gt(0).max(1).default(0.5).describe("Failure rate (0–1] that opens the circuit."),
    window: DurationSchema.prefault("10s").describe("Sliding window of outcomes."),
    minCalls: z.number().int().positive().default(10).describe("Outcomes needed in the window to judge."),
    openFor: DurationSchema.prefault("30s").describe("Time open before trial calls."),
    halfOpenCalls: z
      .number()
      .int()
      .positive()
      .default(3)
      .describe("Trial records that must succeed to close."),
    callSize: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Records per call while closed; default minCalls."),
    fallback: fn("fallback").optional().describe("(record, error) => value for rejected and failed records."),
  })
  .strict();

/** Options of {@link circuitBreaker}. */
export interface CircuitBreakerOptions<A, B> {
  /** Failure rate in (0, 1] at which the circuit opens (default 0.5). */
  readonly failureRate?: number;
  /** Length of the sliding window of outcomes (default "10s"). */
  readonly window?: Duration;
  /** Outcomes needed in the window before the rate counts (default 10). */
  readonly minCalls?: number;
  /** How long the circuit stays open before trial calls (default "30s"). */
  readonly openFor?: Duration;
  /** Trial records that must all succeed to close again (default 3). */
  readonly halfOpenCalls?: number;
  /** Records sent per call while closed; the breaker re-judges after each (default `minCalls`). */
  readonly callSize?: number;
  /** Value for a record turned away (`CircuitOpenError`) or failed by the stage; default: dead letter. */
  readonly fallback?: FallbackFn<A, B>;
}

type State = "closed" | "open" | "half-open";

/**
 * Guards a stage with a circuit breaker.
 *
 * @example
 * ```ts
 * pipeline("score")
 *   .from(iterable(users))
 *   .via(circuitBreaker({ failureRate: 0.5, window: "30s", minCalls: 20, openFor: "1m" }, map(callScoringService)))
 *   .to(collect());
 * ```
 */
export function circuitBreaker<A, B>(
  options: CircuitBreakerOptions<A, B>,
  stage: Operator<A, B>,
): Operator<A, B> {
  const o = parseOptions("circuitBreaker", CircuitBreakerOptionsSchema, options);
  const callSize = o.callSize ?? o.minCalls;
  return makeOperator<A, B>(`circuit.${stage.name}`, "one", (ctx) => {
    const inner = innerStage("circuitBreaker", stage, ctx);
    const clock = ctx.clock;
    const window = new SlidingWindow(o.window);
    let state: State = "closed";
    let openedAt = 0;
    let lastRate = 0;
    let trialsOk = 0;

    const to = (next: State, reason: string) => {
      ctx.emit({
        kind: "circuit.state",
        stage: ctx.stage,
        from: state,
        to: next,
        failureRate: lastRate,
        reason,
      });
      state = next;
      if (next === "open") openedAt = clock.monotonic();
      if (next === "half-open") trialsOk = 0;
      if (next === "closed") window.reset();
    };

    const run = async (records: ReadonlyArray<A>, chunk: Chunk<A>): Promise<B[]> => {
      const results: Outcome<B>[] = new Array(records.length);
      let i = 0;
      while (i < records.length) {
        const now = clock.monotonic();
        if (state === "open" && now - openedAt >= o.openFor) to("half-open", `open for ${o.openFor} ms`);
        if (state === "open") {
          const error = new CircuitOpenError(ctx.stage, lastRate);
          for (; i < records.length; i++) results[i] = { ok: false, error, attempts: 0 };
          break;
        }
        const size = state === "half-open" ? o.halfOpenCalls - trialsOk : callSize;
        const slice = records.slice(i, i + size);
        const r = await inner.call(slice, chunk);
        let failed = 0;
        for (let k = 0; k < r.length; k++) {
          results[i + k] = r[k];
          if (!r[k].ok) failed++;
        }
        i += slice.length;
        const t = clock.monotonic();
        if (state === "half-open") {
          if (failed > 0) to("open", `${failed} of ${slice.length} trial records failed`);
          else {
            trialsOk += slice.length;
            if (trialsOk >= o.halfOpenCalls) to("closed", `${trialsOk} trial records succeeded`);
          }
          continue;
        }
        window.add(slice.length - failed, failed, t);
        const w = window.rate(t);
        lastRate = w.failureRate;
        if (w.calls >= o.minCalls && w.failureRate >= o.failureRate) {
          to("open", `${w.calls - Math.round(w.calls * (1 - w.failureRate))} of ${w.calls} calls failed`);
        }
      }
      const settled = options.fallback ? await recoverOutcomes(records, results, options.fallback) : results;
      return settleOutcomes(ctx, records, chunk, settled);
    };

    return {
      ...innerHooks(inner.stage),
      type: "chunk",
      process: run,
    };
  });
}
