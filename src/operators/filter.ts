/**
 * @module `filter`: keeps the records the predicate accepts; the dropped ones
 * are counted as filtered. Async predicates are awaited in order.
 */
import type { Chunk } from "../pipeline/chunk.ts";
import type { Operator, StageContext } from "../pipeline/types.ts";
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
      const n = records.length;
      const out: A[] = [];
      let i = 0;
      // The try is outside the loop (re-entered after a failed record), so the
      // loop over records stays as tight as a hand-written one.
      while (i < n) {
        try {
          for (; i < n; i++) {
            const keep = predicate(records[i], i);
            if (keep === true) out.push(records[i]);
            else if (keep !== false) {
              if (isAsync(keep)) return finishAsync(ctx, predicate, records, chunk, i, keep, out);
              if (keep) out.push(records[i]);
            }
          }
        } catch (e) {
          recordFailed(ctx, chunk, i, records[i], e);
          i++;
        }
      }
      return out;
    },
  }));
}

async function finishAsync<A>(
  ctx: StageContext,
  predicate: (record: A, index: number) => MaybeAsync<boolean>,
  records: ReadonlyArray<A>,
  chunk: Chunk<A>,
  from: number,
  first: MaybeAsync<boolean>,
  out: A[],
): Promise<A[]> {
  for (let j = from; j < records.length; j++) {
    try {
      if (await settle(j === from ? first : predicate(records[j], j))) out.push(records[j]);
    } catch (e) {
      recordFailed(ctx, chunk, j, records[j], e);
    }
  }
  return out;
}
