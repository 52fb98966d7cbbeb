/**
 * @module csv-etl peer: RxJS 7 per element — `from()` over csv-parse's async
 * iteration of a file stream, then `map`/`filter` operators for each step
 * and `reduce` into the totals, awaited with `lastValueFrom`.
 */
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import { filter, from, lastValueFrom, map, reduce, tap } from "rxjs";
import type { BenchContext, Outcome } from "../../src/bench/scenario.ts";
import {
  isRealSale,
  type Order,
  OrderSchema,
  type OrdersData,
  Totals,
  toSale,
  totalsDigest,
} from "../../src/bench/scenarios/orders.ts";

export default async function etlRxjs(d: OrdersData, ctx: BenchContext): Promise<Outcome> {
  let rowsIn = 0;
  let invalid = 0;
  const parser = createReadStream(d.file, { highWaterMark: 1 << 20 }).pipe(
    parse({ columns: true, relax_column_count: true }),
  );
  const totals = await lastValueFrom(
    from(parser as AsyncIterable<Record<string, string>>).pipe(
      tap(() => {
        if ((++rowsIn & 1023) === 0) ctx.progress(rowsIn);
      }),
      map((rec) => OrderSchema.safeParse(rec)),
      filter((r): r is { success: true; data: Order } => {
        if (!r.success) invalid++;
        return r.success;
      }),
      map((r) => toSale(r.data)),
      filter(isRealSale),
      reduce((t, s) => {
        t.add(s);
        return t;
      }, new Totals()),
    ),
  );
  return { rowsIn, rowsOut: totals.size, deadLettered: invalid, digest: totalsDigest(totals.rows()) };
}
