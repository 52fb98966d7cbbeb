/**
 * @module csv-etl peer: papaparse streaming a Node file stream with
 * `header: true` and the `chunk` callback (its fastest streaming mode, as in
 * `papaparse-reader.ts`), validating, mapping, filtering and aggregating each
 * row of a chunk in a loop.
 */
import { createReadStream } from "node:fs";
import Papa from "papaparse";
import type { BenchContext, Outcome } from "../../src/bench/scenario.ts";
import {
  isRealSale,
  OrderSchema,
  type OrdersData,
  Totals,
  toSale,
  totalsDigest,
} from "../../src/bench/scenarios/orders.ts";

export default function etlPapaparse(d: OrdersData, ctx: BenchContext): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let rowsIn = 0;
    let invalid = 0;
    const totals = new Totals();
    const stream = createReadStream(d.file, { highWaterMark: 1 << 20 });
    // papaparse decodes each Buffer on its own: let the stream decode, so a character split across reads survives.
    stream.setEncoding("utf8");
    Papa.parse<Record<string, string>>(stream, {
      header: true,
      skipEmptyLines: true,
      chunk(results) {
        const t = ctx.now();
        const rows = results.data;
        for (let i = 0; i < rows.length; i++) {
          const r = OrderSchema.safeParse(rows[i]);
          if (!r.success) {
            invalid++;
            continue;
          }
          const s = toSale(r.data);
          if (isRealSale(s)) totals.add(s);
        }
        rowsIn += rows.length;
        ctx.latency(t);
        ctx.progress(rowsIn);
      },
      complete: () =>
        resolve({ rowsIn, rowsOut: totals.size, deadLettered: invalid, digest: totalsDigest(totals.rows()) }),
      error: reject,
    });
  });
}
