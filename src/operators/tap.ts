/**
 * @module `tap`: runs a side effect per record and passes records through
 * unchanged (the same array: no copy).
 */
import type { Operator } from "../pipeline/types.ts";
import { isAsync, type MaybeAsync, makeOperator, recordFailed, settle } from "./internal/operator.ts";

/**
 * Calls `fn` for each record; its result is ignored (awaited if async).
 *
 * @example
 * ```ts
 * pipeline("p").from(iterable([1])).via(tap((n) => console.log(n))).to(collect());
 * ```
 */
export function tap<A>(fn: (record: A, index: number) => MaybeAsync<unknown>): Operator<A, A> {
  return makeOperator<A, A>("tap", "one", (ctx) => ({
    type: "chunk",
    process(records, chunk) {
      const failed = new Set<number>();
      for (let i = 0; i < records.length; i++) {
        let r: MaybeAsync<unknown>;
        try {
          r = fn(records[i], i);
        } catch (e) {
          recordFailed(ctx, chunk, i, records[i], e);
          failed.add(i);
          continue;
        }
        if (isAsync(r)) {
          return (async () => {
            for (let j = i; j < records.length; j++) {
              try {
                await settle(j === i ? r : fn(records[j], j));
              } catch (e) {
                recordFailed(ctx, chunk, j, records[j], e);
                failed.add(j);
              }
            }
            return failed.size ? records.filter((_, k) => !failed.has(k)) : records;
          })();
        }
      }
      return failed.size ? records.filter((_, k) => !failed.has(k)) : records;
    },
  }));
}
