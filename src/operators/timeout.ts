/**
 * @module `timeout`: bounds how long a wrapped stage may take, on the
 * injected clock. By default each record gets its own call and its own
 * deadline (what "time out the service call" means); `per: "chunk"` gives
 * one deadline to the whole chunk's call, for stages that work in batches.
 * Records whose call misses the deadline fail with `TimeoutError` (to the
 * dead letter, or to an enclosing `retry`/`fallback`); the late call is
 * abandoned — its result and dead letters are ignored — since a promise
 * cannot be cancelled. Synchronous work cannot be interrupted and is never
 * timed out. Per-record calls run one after another: around a stage that
 * gets its speed from concurrency within a chunk (a worker pool, mapAsync),
 * use `per: "chunk"`.
 */
import { z } from "zod";
import type { Chunk } from "../pipeline/chunk.ts";
import { rejectUnknownOptions } from "../pipeline/internal/options.ts";
import type { Operator } from "../pipeline/types.ts";
import type { Duration } from "../pipeline/units.ts";
import { TimeoutError } from "./errors.ts";
import { innerHooks, innerStage, type Outcome, settleOutcomes } from "./internal/inner-stage.ts";
import { makeOperator } from "./internal/operator.ts";
import { DurationSchema, parseOptions } from "./internal/options.ts";

/** Validation and documentation of `timeout()` options. */
export const TimeoutOptionsSchema = z
  .object({
    duration: DurationSchema.describe("Deadline of one call."),
    per: z.enum(["record", "chunk"]).default("record").describe("What one call is."),
  })
  .strict();

const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * Fails records whose call into `stage` takes longer than `duration`.
 *
 * @example
 * ```ts
 * pipeline("lookup")
 *   .from(iterable(ids))
 *   .via(retry({ attempts: 3 }, timeout("2s", map(async (id) => fetchUser(id)))))
 *   .to(collect());
 * ```
 */
export function timeout<A, B>(
  duration: Duration,
  stage: Operator<A, B>,
  options: { readonly per?: "record" | "chunk" } = {},
): Operator<A, B> {
  rejectUnknownOptions("timeout()", options, ["per"]);
  const o = parseOptions("timeout", TimeoutOptionsSchema, { ...options, duration });
  const ms = o.duration;
  return makeOperator<A, B>(`timeout.${stage.name}`, "one", (ctx) => {
    const inner = innerStage("timeout", stage, ctx);

    const timed = (records: ReadonlyArray<A>, chunk: Chunk<A>): Outcome<B>[] | Promise<Outcome<B>[]> => {
      const call = inner.start(records, chunk);
      const result = call.result;
      if (!(result instanceof Promise)) return result;
      const stop = new AbortController();
      const deadline = ctx.clock.sleep(ms, stop.signal).then(
        () => TIMED_OUT,
        () => undefined,
      );
      return Promise.race([result, deadline]).then(
        (r) => {
          if (r !== TIMED_OUT) {
            stop.abort();
            return r as Outcome<B>[];
          }
          call.abandon();
          result.catch(() => {}); // a late failure of an abandoned call is already a timeout
          const error = new TimeoutError(ctx.stage, ms);
          return records.map((): Outcome<B> => ({ ok: false, error, attempts: 1 }));
        },
        (e) => {
          stop.abort();
          throw e;
        },
      );
    };

    const perRecord = async (records: ReadonlyArray<A>, chunk: Chunk<A>): Promise<B[]> => {
      const results: Outcome<B>[] = new Array(records.length);
      for (let i = 0; i < records.length; i++) results[i] = (await timed([records[i]], chunk))[0];
      return settleOutcomes(ctx, records, chunk, results);
    };

    return {
      ...innerHooks(inner.stage),
      type: "chunk",
      process(records, chunk) {
        if (o.per === "record") return perRecord(records, chunk);
        const r = timed(records, chunk);
        return r instanceof Promise
          ? r.then((x) => settleOutcomes(ctx, records, chunk, x))
          : settleOutcomes(ctx, records, chunk, r);
      },
    };
  });
}
