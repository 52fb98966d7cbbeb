/**
 * @module csv-etl peer: plain async iterators, no framework — csv-parse's
 * async iteration over a piped file stream, then one async generator per
 * step (validate, map, filter) and a `for await` loop that aggregates.
 */
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import type { BenchContext, Outcome } from "../../src/bench/scenario.ts";
import {
  isRealSale,
  type Order,
  OrderSchema,
  type OrdersData,
  type Sale,
  Totals,
  toSale,
  totalsDigest,
} from "../../src/bench/scenarios/orders.ts";

export default async function etlAsyncIterators(d: OrdersData, ctx: BenchContext): Promise<Outcome> {
  const counts = { rowsIn: 0, invalid: 0 };
  async function* validate(rows: AsyncIterable<Record<string, string>>): AsyncGenerator<Order> {
    for await (const rec of rows) {
      counts.rowsIn++;
      const r = OrderSchema.safeParse(rec);
      if (r.success) yield r.data;
      else counts.invalid++;
    }
  }
  async function* toSales(orders: AsyncIterable<Order>): AsyncGenerator<Sale> {
    for await (const o of orders) yield toSale(o);
  }
  async function* real(sales: AsyncIterable<Sale>): AsyncGenerator<Sale> {
    for await (const s of sales) if (isRealSale(s)) yield s;
  }
  const parser = createReadStream(d.file, { highWaterMark: 1 << 20 }).pipe(
    parse({ columns: true, relax_column_count: true }),
  );
  const totals = new Totals();
  for await (const s of real(toSales(validate(parser)))) {
    totals.add(s);
    if ((counts.rowsIn & 1023) === 0) ctx.progress(counts.rowsIn);
  }
  return {
    rowsIn: counts.rowsIn,
    rowsOut: totals.size,
    deadLettered: counts.invalid,
    digest: totalsDigest(totals.rows()),
  };
}
