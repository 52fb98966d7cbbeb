/**
 * @module `map`: one output per input. The per-chunk loop calls the user
 * function directly; only if it returns a promise or an Effect does the stage
 * go async for that chunk (records are then awaited one by one, in order —
 * use `mapAsync` for concurrency).
 */
import type { Chunk } from "../pipeline/chunk.ts";
import type { Operator, StageContext } from "../pipeline/types.ts";
import { isAsync, type MaybeAsync, makeOperator, recordFailed, settle } from "./internal/operator.ts";

/**
 * Transforms each record.
 *
 * @example
 * ```ts
 * pipeline("p").from(iterable([1, 2])).via(map((n) => n * 2)).to(collect());
 * ```
 */
export function map<A, B>(fn: (record: A, index: number) => MaybeAsync<B>): Operator<A, B> {
  return makeOperator<A, B>("map", "one", (ctx) => ({
    type: "chunk",
    process(records, chunk) {
      const n = records.length;
      const out: B[] = new Array(n);
      let o = 0;
      let i = 0;
      // The try is outside the loop (re-entered after a failed record), so the
      // loop over records stays as tight as a hand-written one.
      while (i < n) {
        try {
          for (; i < n; i++) {
            const r = fn(records[i], i);
            if (typeof r === "object" && r !== null && isAsync(r))
              return finishAsync(ctx, fn, records, chunk, i, r, out, o);
            out[o++] = r as B;
          }
        } catch (e) {
          recordFailed(ctx, chunk, i, records[i], e);
          i++;
        }
      }
      if (o !== n) out.length = o;
      return out;
    },
  }));
}

async function finishAsync<A, B>(
  ctx: StageContext,
  fn: (record: A, index: number) => MaybeAsync<B>,
  records: ReadonlyArray<A>,
  chunk: Chunk<A>,
  from: number,
  first: MaybeAsync<B>,
  out: B[],
  o: number,
): Promise<B[]> {
  // The engine timed the synchronous part up to `first`; the calls made from
  // continuations here report theirs (the async path only: two clock reads a record).
  let cpu = 0;
  for (let i = from; i < records.length; i++) {
    try {
      let r = first;
      if (i !== from) {
        const t0 = ctx.clock.monotonic();
        try {
          r = fn(records[i], i);
        } finally {
          cpu += ctx.clock.monotonic() - t0;
        }
      }
      out[o++] = await settle(r);
    } catch (e) {
      o--;
      recordFailed(ctx, chunk, i, records[i], e);
    }
  }
  if (records.length - from > 1) ctx.reportCpu(cpu);
  out.length = o;
  return out;
}
