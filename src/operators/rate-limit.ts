/**
 * @module `rateLimit`: a token bucket on the injected clock — `perSecond`
 * tokens a second, at most `burst` saved up, one token a record. Alone it
 * throttles the flow (a chunk passes when its records have tokens); wrapping
 * a stage it feeds the stage as tokens come, so a chunk of 1000 records at
 * 100/s reaches the stage in slices over ten seconds instead of at once.
 * Waits are counted in place and published as one `rate.limited` event per
 * interval and checkpoint (never one per record or per wait).
 */
import { z } from "zod";
import type { Chunk } from "../pipeline/chunk.ts";
import type { Operator, Stage } from "../pipeline/types.ts";
import type { Duration } from "../pipeline/units.ts";
import { type Inner, innerHooks, innerStage, type Outcome, settleOutcomes } from "./internal/inner-stage.ts";
import { makeOperator } from "./internal/operator.ts";
import { DurationSchema, parseOptions } from "./internal/options.ts";
import { TokenBucket } from "./internal/resilience.ts";

/** Validation and documentation of `rateLimit()` options. */
export const RateLimitOptionsSchema = z
  .object({
    perSecond: z.number().positive().describe("Sustained records per second."),
    burst: z.number().int().positive().optional().describe("Tokens saved up; default max(1, perSecond)."),
    statsInterval: DurationSchema.prefault("1s").describe("Interval of rate.limited events."),
  })
  .strict();

/** Options of {@link rateLimit}. */
export interface RateLimitOptions {
  /** Sustained records per second. */
  readonly perSecond: number;
  /** Records that may pass at once after a pause (default max(1, perSecond)). */
  readonly burst?: number;
  /** Interval of `rate.limited` events (default "1s"; also at each checkpoint). */
  readonly statsInterval?: Duration;
}

/**
 * Limits records per second, alone (`rateLimit(o)`) or into a stage
 * (`rateLimit(o, stage)`).
 *
 * @example
 * ```ts
 * pipeline("crawl")
 *   .from(iterable(urls))
 *   .via(rateLimit({ perSecond: 20, burst: 5 }, map(async (u) => fetchPage(u))))
 *   .to(collect());
 * ```
 */
export function rateLimit<A>(options: RateLimitOptions): Operator<A, A>;
export function rateLimit<A, B>(options: RateLimitOptions, stage: Operator<A, B>): Operator<A, B>;
export function rateLimit<A, B>(options: RateLimitOptions, stage?: Operator<A, B>): Operator<A, A | B> {
  const o = parseOptions("rateLimit", RateLimitOptionsSchema, options);
  const burst = o.burst ?? Math.max(1, Math.floor(o.perSecond));
  const name = stage ? `rateLimit.${stage.name}` : "rateLimit";
  return makeOperator<A, A | B>(name, "one", (ctx): Stage<A, A | B> => {
    const inner: Inner<A, B> | undefined = stage ? innerStage("rateLimit", stage, ctx) : undefined;
    const clock = ctx.clock;
    let bucket: TokenBucket | undefined;
    let waitMs = 0;
    let delayed = 0;
    let stop: (() => void) | undefined;

    const report = () => {
      if (delayed === 0) return;
      ctx.emit({ kind: "rate.limited", stage: ctx.stage, waitMs, records: delayed });
      waitMs = 0;
      delayed = 0;
    };

    /** Calls `each(from, to)` for consecutive slices as tokens become available. */
    const paced = async (n: number, got: number, each: (from: number, to: number) => unknown) => {
      const b = bucket!;
      let i = 0;
      for (;;) {
        if (got > 0) await each(i, i + got);
        i += got;
        if (i >= n) return;
        const wait = b.waitFor(n - i, clock.monotonic());
        waitMs += wait;
        delayed += Math.min(n - i, b.burst);
        await clock.sleep(wait, ctx.signal);
        got = b.take(n - i, clock.monotonic());
      }
    };

    const process = (records: ReadonlyArray<A>, chunk: Chunk<A>) => {
      bucket ??= new TokenBucket(o.perSecond / 1000, burst, clock.monotonic());
      const n = records.length;
      const got = bucket.take(n, clock.monotonic());
      if (!inner) {
        if (got === n) return records;
        return paced(n, got, () => {}).then(() => records);
      }
      const results: Outcome<B>[] = new Array(n);
      return paced(n, got, async (from, to) => {
        const r = await inner.call(records.slice(from, to), chunk);
        for (let k = 0; k < r.length; k++) results[from + k] = r[k];
      }).then(() => settleOutcomes(ctx, records, chunk, results));
    };

    const hooks = inner ? innerHooks(inner.stage) : {};
    return {
      ...hooks,
      type: "chunk",
      process,
      async start() {
        await hooks.start?.();
        stop = clock.every(o.statsInterval, report);
      },
      snapshot() {
        report();
        return hooks.snapshot?.();
      },
      async close() {
        stop?.();
        report();
        await hooks.close?.();
      },
    };
  });
}
