/**
 * @module `flatMap`: any number of outputs per input (an array or iterable,
 * or a promise of one).
 */
import type { Operator } from "../pipeline/types.ts";
import { isAsync, type MaybeAsync, makeOperator, recordFailed, settle } from "./internal/operator.ts";

/**
 * Maps each record to zero or more records.
 *
 * @example
 * ```ts
 * pipeline("p").from(iterable(["a b", "c"])).via(flatMap((s) => s.split(" "))).to(collect());
 * ```
 */
export function flatMap<A, B>(fn: (record: A, index: number) => MaybeAsync<Iterable<B>>): Operator<A, B> {
  return makeOperator<A, B>("flatMap", "many", (ctx) => ({
    type: "chunk",
    process(records, chunk) {
      const out: B[] = [];
      for (let i = 0; i < records.length; i++) {
        let r: MaybeAsync<Iterable<B>>;
        try {
          r = fn(records[i], i);
          if (!isAsync(r)) {
            for (const b of r as Iterable<B>) out.push(b);
            continue;
          }
        } catch (e) {
          recordFailed(ctx, chunk, i, records[i], e);
          continue;
        }
        return (async () => {
          for (let j = i; j < records.length; j++) {
            try {
              for (const b of await settle(j === i ? r : fn(records[j], j))) out.push(b);
            } catch (e) {
              recordFailed(ctx, chunk, j, records[j], e);
            }
          }
          return out;
        })();
      }
      return out;
    },
  }));
}
