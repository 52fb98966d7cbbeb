/**
 * @module Built-in scenario `csv-etl`: the orders CSV parsed, validated with a
 * zod schema (malformed rows to the dead letter), mapped, filtered and
 * aggregated per category into a DuckDB table (the exactly-once `duckdb`
 * sink). Peers do the same with csv-parse on Node streams, with papaparse,
 * with plain async iterators, with RxJS and with Effect Stream per element,
 * and as one DuckDB SQL query; the totals must equal those of a plain loop.
 */

import { openDuckDB } from "../../duckdb/client.ts";
import { aggregate } from "../../operators/aggregate.ts";
import { filter } from "../../operators/filter.ts";
import { map } from "../../operators/map.ts";
import { pipeline } from "../../pipeline/pipeline.ts";
import { paths } from "../../runtime/fs.ts";
import { duckdb } from "../../sinks/duckdb.ts";
import { csv } from "../../sources/csv.ts";
import { scenario } from "../scenario.ts";
import {
  type CategoryTotal,
  checkOrders,
  generateOrders,
  isRealSale,
  OrderSchema,
  type OrdersData,
  toSale,
  totalsDigest,
} from "./orders.ts";
import { repoPeer } from "./repo-peer.ts";

const TABLE = "category_totals";

export default scenario<OrdersData>({
  name: "csv-etl",
  description: "orders CSV → validate (zod) → map → filter → aggregate per category → DuckDB table",
  sizes: { tiny: 2_000, small: 200_000, full: 1_000_000 },
  generate: (ctx) => generateOrders(ctx, { reference: "plain" }),
  pipeline: (d, ctx) =>
    pipeline("bench-csv-etl")
      .from(csv(d.file, { schema: OrderSchema }))
      .via(
        map(toSale),
        filter(isRealSale),
        aggregate({ key: (s) => s.category, aggregate: { n: "count", cents: ["sum", "cents"] } }),
      )
      .to(duckdb({ table: TABLE, path: paths.join(ctx.outDir, "totals.duckdb") })),
  measure: {
    async outcome(summary, _d, ctx) {
      const db = await openDuckDB(paths.join(ctx.outDir, "totals.duckdb"), { readOnly: true });
      try {
        const conn = await db.connect();
        const rows = (await conn.all(`SELECT key, n, cents FROM ${TABLE}`)) as unknown as CategoryTotal[];
        conn.close();
        return {
          rowsIn: summary.rowsIn,
          rowsOut: rows.length,
          deadLettered: summary.deadLettered,
          digest: totalsDigest(rows),
        };
      } finally {
        db.close();
      }
    },
    check: checkOrders,
  },
  peers: {
    "node-streams": repoPeer("etl-node-streams.ts"),
    papaparse: repoPeer("etl-papaparse.ts"),
    "async-iterators": repoPeer("etl-async-iterators.ts"),
    rxjs: repoPeer("etl-rxjs.ts"),
    effect: repoPeer("etl-effect.ts"),
    duckdb: repoPeer("etl-duckdb.ts"),
  },
});
