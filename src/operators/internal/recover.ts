/**
 * @module Replacing failed outcomes with a fallback value, shared by
 * `fallback()` and `circuitBreaker({ fallback })`. A fallback that itself
 * throws leaves the record failed, with both errors in the reason.
 */
import { describeError } from "../../pipeline/errors.ts";
import type { Outcome } from "./inner-stage.ts";
import { isAsync, type MaybeAsync, settle } from "./operator.ts";

/** A function giving a replacement for a record that failed with `error`. */
export type FallbackFn<A, B> = (record: A, error: unknown) => MaybeAsync<B>;

/** Applies `fn` to the failed outcomes in place; sync unless `fn` is async. */
export function recoverOutcomes<A, B>(
  records: ReadonlyArray<A>,
  outcomes: Outcome<B>[],
  fn: FallbackFn<A, B>,
): Outcome<B>[] | Promise<Outcome<B>[]> {
  let pending: Array<Promise<void>> | undefined;
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i];
    if (o.ok) continue;
    let r: MaybeAsync<B>;
    try {
      r = fn(records[i], o.error);
    } catch (e) {
      outcomes[i] = failedFallback(o, e);
      continue;
    }
    if (isAsync(r)) {
      pending ??= [];
      pending.push(
        settle(r).then(
          (value) => {
            outcomes[i] = { ok: true, value };
          },
          (e) => {
            outcomes[i] = failedFallback(o, e);
          },
        ),
      );
    } else outcomes[i] = { ok: true, value: r as B };
  }
  return pending ? Promise.all(pending).then(() => outcomes) : outcomes;
}

function failedFallback<B>(o: Outcome<B> & { ok: false }, e: unknown): Outcome<B> {
  return {
    ok: false,
    error: new Error(`${describeError(o.error)}; the fallback failed too: ${describeError(e)}`, {
      cause: o.error,
    }),
    attempts: o.attempts,
  };
}
