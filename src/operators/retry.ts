/**
 * @module `retry`: wraps a one-to-one stage and retries only the records it
 * failed. The first call gets the whole chunk; after it, the failed records
 * (those `retryIf` accepts) wait one backoff delay on the injected clock and
 * go back to the stage as one sub-chunk — per round, not per record, so a
 * chunk of failures costs one timer and one `retry.scheduled` event per round
 * (DESIGN §9). Records still failing after `attempts` go to the dead letter
 * with the number of attempts made. Output keeps input order.
 */
import { z } from "zod";
import { describeError } from "../pipeline/errors.ts";
import type { Operator } from "../pipeline/types.ts";
import type { Duration } from "../pipeline/units.ts";
import { innerHooks, innerStage, type Outcome, settleOutcomes } from "./internal/inner-stage.ts";
import { makeOperator } from "./internal/operator.ts";
import { DurationSchema, fn, parseOptions } from "./internal/options.ts";
import { backoffDelay } from "./internal/resilience.ts";

/** Validation and documentation of `retry()` options. */
export const RetryOptionsSchema = z
  .object({
    attempts: z.number().int().min(1).default(3).describe("Total attempts per record, the first included."),
    backoff: z.enum(["exponential", "fixed"]).default("exponential").describe("How delays grow."),
    base: DurationSchema.prefault("100ms").describe("First delay."),
    max: DurationSchema.prefault("30s").describe("Largest delay."),
    jitter: z.number().min(0).max(1).default(0.2).describe("Fraction of each delay taken off at random."),
    retryIf: fn("retryIf").optional().describe("(error, record, attempt) => boolean; default: every error."),
    random: fn("random").optional().describe("Random source in [0, 1) for jitter; default Math.random."),
  })
  .strict();

/** Options of {@link retry}. */
export interface RetryOptions<A> {
  /** Total attempts per record, the first included (default 3). */
  readonly attempts?: number;
  /** `"exponential"` (base, 2×base, 4×base … up to max; default) or `"fixed"` (base each time). */
  readonly backoff?: "exponential" | "fixed";
  /** First delay (default "100ms"). */
  readonly base?: Duration;
  /** Largest delay (default "30s"). */
  readonly max?: Duration;
  /** Fraction of each delay taken off at random, 0–1 (default 0.2; 1 is "full jitter"). */
  readonly jitter?: number;
  /** Whether a failure is worth retrying; `attempt` is the attempt that failed (1-based). */
  readonly retryIf?: (error: unknown, record: A, attempt: number) => boolean;
  /** Random source for jitter (inject a fixed one in tests). */
  readonly random?: () => number;
}

/**
 * Retries the records a stage fails, with backoff, and dead-letters the ones
 * that still fail with their attempt count.
 *
 * @example
 * ```ts
 * pipeline("enrich")
 *   .from(ndjson("events.ndjson"))
 *   .via(retry({ attempts: 4, backoff: "exponential", base: "200ms", max: "5s" }, map(async (e) => callApi(e))))
 *   .to(collect());
 * ```
 */
export function retry<A, B>(options: RetryOptions<A>, stage: Operator<A, B>): Operator<A, B> {
  const o = parseOptions("retry", RetryOptionsSchema, options);
  const retryIf = options.retryIf ?? (() => true);
  const random = options.random ?? Math.random;
  return makeOperator<A, B>(`retry.${stage.name}`, "one", (ctx) => {
    const inner = innerStage("retry", stage, ctx);

    const again = async (
      records: ReadonlyArray<A>,
      chunk: Parameters<typeof inner.call>[1],
      results: Outcome<B>[],
    ): Promise<B[]> => {
      let pending = failedToRetry(records, results, 1);
      for (let attempt = 1; pending.length > 0 && attempt < o.attempts; attempt++) {
        const delayMs = backoffDelay(attempt, o, random);
        const first = results[pending[0]] as Outcome<B> & { ok: false };
        ctx.emit({
          kind: "retry.scheduled",
          stage: ctx.stage,
          attempt: attempt + 1,
          delayMs,
          error:
            describeError(first.error) +
            (pending.length > 1 ? ` (and ${pending.length - 1} more records)` : ""),
        });
        await ctx.clock.sleep(delayMs, ctx.signal);
        const again = await inner.call(
          pending.map((i) => records[i]),
          chunk,
        );
        for (let j = 0; j < pending.length; j++) {
          const r = again[j];
          results[pending[j]] = r.ok ? r : { ok: false, error: r.error, attempts: attempt + 1 };
        }
        pending = failedToRetry(records, results, attempt + 1, pending);
      }
      return settleOutcomes(ctx, records, chunk, results);
    };

    /** Indices (among `among`) that failed at `attempt` and may be retried. */
    const failedToRetry = (
      records: ReadonlyArray<A>,
      results: Outcome<B>[],
      attempt: number,
      among?: number[],
    ): number[] => {
      const out: number[] = [];
      const n = among ? among.length : results.length;
      for (let k = 0; k < n; k++) {
        const i = among ? among[k] : k;
        const r = results[i];
        if (r.ok) continue;
        if (attempt === 1) results[i] = { ok: false, error: r.error, attempts: 1 };
        if (retryIf(r.error, records[i], attempt)) out.push(i);
      }
      return out;
    };

    return {
      ...innerHooks(inner.stage),
      type: "chunk",
      process(records, chunk) {
        const first = inner.call(records, chunk);
        const finish = (results: Outcome<B>[]): B[] | Promise<B[]> => {
          for (let i = 0; i < results.length; i++) if (!results[i].ok) return again(records, chunk, results);
          return results.map((r) => (r as { value: B }).value);
        };
        return first instanceof Promise ? first.then(finish) : finish(first);
      },
    };
  });
}
