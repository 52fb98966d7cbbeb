/**
 * @module csv-etl peer: Node streams the way their docs compose them — a file
 * read stream piped into csv-parse (`columns: true`), then one object-mode
 * Transform per step (validate, map, filter) and a Writable that aggregates,
 * joined by `stream.promises.pipeline`. Per element throughout.
 */
import { createReadStream } from "node:fs";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
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

export default async function etlNodeStreams(d: OrdersData, ctx: BenchContext): Promise<Outcome> {
  let rowsIn = 0;
  let invalid = 0;
  const totals = new Totals();
  await pipeline(
    createReadStream(d.file, { highWaterMark: 1 << 20 }),
    parse({ columns: true, relax_column_count: true }),
    new Transform({
      objectMode: true,
      transform(rec, _enc, done) {
        rowsIn++;
        const r = OrderSchema.safeParse(rec);
        if (r.success) done(null, r.data);
        else {
          invalid++;
          done();
        }
      },
    }),
    new Transform({
      objectMode: true,
      transform(o: Order, _enc, done) {
        done(null, toSale(o));
      },
    }),
    new Transform({
      objectMode: true,
      transform(s: Sale, _enc, done) {
        if (isRealSale(s)) done(null, s);
        else done();
      },
    }),
    new Writable({
      objectMode: true,
      write(s: Sale, _enc, done) {
        totals.add(s);
        if ((rowsIn & 1023) === 0) ctx.progress(rowsIn);
        done();
      },
    }),
  );
  return { rowsIn, rowsOut: totals.size, deadLettered: invalid, digest: totalsDigest(totals.rows()) };
}
