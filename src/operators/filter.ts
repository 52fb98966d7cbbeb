/**
 * @module `filter`: keeps the records the predicate accepts; the dropped ones
 * are counted as filtered. Async predicates are awaited in order.
 */
import type { Operator } from "../pipeline/types.ts";
import { isAsync, type MaybeAsync, makeOperator, recordFailed, settle } from "./internal/operator.ts";

/**
 * Keeps records for which `predicate` is true.
 *
 * @example
 * ```ts
 * pipeline("p").from(iterable([1, 2, 3])).via(filter((n) => n % 2 === 1)).to(collect());
 * ```
 */
export function filter<A, B extends A = A>(
  predicate: (record: A, index: number) => record is B,
): Operator<A, B>;
export function filter<A>(predicate: (record: A, index: number) => MaybeAsync<boolean>): Operator<A, A>;
export function filter<A>(predicate: (record: A, index: number) => MaybeAsync<boolean>): Operator<A, A> {
  return makeOperator<A, A>("filter", "filter", (ctx) => ({
    type: "chunk",
    process(records, chunk) {
      const out: A[] = [];
      for (let i = 0; i < records.length; i++) {
        let keep: MaybeAsync<boolean>;
        try {
          keep = predicate(records[i], i);
        } catch (e) {
          recordFailed(ctx, chunk, i, records[i], e);
          continue;
        }
        if (keep === true) out.push(records[i]);
        else if (keep !== false && isAsync(keep)) {
          return (async () => {
            for (let j = i; j < records.length; j++) {
              try {
                if (await settle(j === i ? keep : predicate(records[j], j))) out.push(records[j]);
              } catch (e) {
                recordFailed(ctx, chunk, j, records[j], e);
              }
            }
            return out;
          })();
        } else if (keep) out.push(records[i]);
      }
      return out;
    },
  }));
}
