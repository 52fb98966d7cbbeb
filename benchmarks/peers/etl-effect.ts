/**
 * @module csv-etl peer: Effect Stream per element, as its docs show —
 * `Stream.fromAsyncIterable` over csv-parse's async iteration of a file
 * stream, `Stream.map`/`Stream.filter` per step, `Stream.runFold` into the
 * totals.
 */
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import { Effect, Stream } from "effect";
import type { BenchContext, Outcome } from "../../src/bench/scenario.ts";
import {
  isRealSale,
  OrderSchema,
  type OrdersData,
  Totals,
  toSale,
  totalsDigest,
} from "../../src/bench/scenarios/orders.ts";

export default async function etlEffect(d: OrdersData, ctx: BenchContext): Promise<Outcome> {
  let rowsIn = 0;
  let invalid = 0;
  const parser = createReadStream(d.file, { highWaterMark: 1 << 20 }).pipe(
    parse({ columns: true, relax_column_count: true }),
  );
  const program = Stream.fromAsyncIterable(parser as AsyncIterable<Record<string, string>>, (e) => e).pipe(
    Stream.map((rec) => {
      if ((++rowsIn & 1023) === 0) ctx.progress(rowsIn);
      return OrderSchema.safeParse(rec);
    }),
    Stream.filter((r) => {
      if (!r.success) invalid++;
      return r.success;
    }),
    Stream.map((r) => toSale(r.data!)),
    Stream.filter(isRealSale),
    Stream.runFold(
      () => new Totals(),
      (t, s) => {
        t.add(s);
        return t;
      },
    ),
  );
  const totals = await Effect.runPromise(program);
  return { rowsIn, rowsOut: totals.size, deadLettered: invalid, digest: totalsDigest(totals.rows()) };
}
