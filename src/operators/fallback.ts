/**
 * @module `fallback`: gives a replacement value for each record a wrapped
 * stage fails (or that an inner recovery operator turned away: a timeout, an
 * open circuit, a full bulkhead), instead of sending it to the dead letter.
 * Only a fallback that fails too leaves the record dead-lettered.
 */
import { ConfigError } from "../pipeline/errors.ts";
import type { Operator } from "../pipeline/types.ts";
import { innerHooks, innerStage, type Outcome, settleOutcomes } from "./internal/inner-stage.ts";
import { makeOperator } from "./internal/operator.ts";
import { type FallbackFn, recoverOutcomes } from "./internal/recover.ts";

/**
 * Replaces the failures of `stage` with `fn(record, error)`.
 *
 * @example
 * ```ts
 * pipeline("geo")
 *   .from(iterable(orders))
 *   .via(fallback((o, e) => ({ ...o, country: "unknown" }), timeout("1s", map(async (o) => geocode(o)))))
 *   .to(collect());
 * ```
 */
export function fallback<A, B>(fn: FallbackFn<A, B>, stage: Operator<A, B>): Operator<A, B> {
  if (typeof fn !== "function")
    throw new ConfigError("fallback(): the first argument must be a function (record, error) => value");
  return makeOperator<A, B>(`fallback.${stage.name}`, "one", (ctx) => {
    const inner = innerStage("fallback", stage, ctx);
    return {
      ...innerHooks(inner.stage),
      type: "chunk",
      process(records, chunk) {
        const r = inner.call(records, chunk);
        const finish = (outcomes: Outcome<B>[]) => {
          const rec = recoverOutcomes(records, outcomes, fn);
          return rec instanceof Promise
            ? rec.then((x) => settleOutcomes(ctx, records, chunk, x))
            : settleOutcomes(ctx, records, chunk, rec);
        };
        return r instanceof Promise ? r.then(finish) : finish(r);
      },
    };
  });
}
