/**
 * @module csv-etl peer: the whole workload as one DuckDB SQL query over the
 * file (`read_csv`, all columns as text so validation is the query's: a row
 * is valid when id, amount and ts cast and user/category are non-empty),
 * through `@duckdb/node-api` in memory. DuckDB parallelises the scan and the
 * aggregation over the machine's cores, which the others do not.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import type { BenchContext, Outcome } from "../../src/bench/scenario.ts";
import type { OrdersData } from "../../src/bench/scenarios/orders.ts";
import { totalsDigest } from "../../src/bench/scenarios/orders.ts";

export default async function etlDuckdb(d: OrdersData, _ctx: BenchContext): Promise<Outcome> {
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  try {
    const file = d.file.replaceAll("'", "''");
    const sql = `
      WITH raw AS (
        SELECT * FROM read_csv('${file}', header = true, all_varchar = true, null_padding = true,
                               quote = '"', escape = '"', strict_mode = false)
      ), checked AS (
        SELECT category, round(TRY_CAST(amount AS DOUBLE) * 100)::BIGINT AS cents,
               TRY_CAST(id AS BIGINT) > 0 AND coalesce("user", '') <> '' AND coalesce(category, '') <> ''
                 AND TRY_CAST(amount AS DOUBLE) >= 0 AND TRY_CAST(ts AS TIMESTAMP) IS NOT NULL AS ok
        FROM raw
      ), totals AS (
        SELECT category AS key, count(*) AS n, sum(cents) AS cents
        FROM checked WHERE ok AND category <> 'test' GROUP BY category
      )
      SELECT (SELECT count(*) FROM checked) AS rows_in,
             (SELECT count(*) FILTER (WHERE NOT coalesce(ok, false)) FROM checked) AS invalid,
             (SELECT list({'key': key, 'n': n, 'cents': cents}) FROM totals) AS totals`;
    const reader = await conn.runAndReadAll(sql);
    const [row] = reader.getRowObjectsJson() as Array<{
      rows_in: string | number;
      invalid: string | number;
      totals: Array<{ key: string; n: string | number; cents: string | number }>;
    }>;
    const totals = (row.totals ?? []).map((t) => ({ key: t.key, n: Number(t.n), cents: Number(t.cents) }));
    return {
      rowsIn: Number(row.rows_in),
      rowsOut: totals.length,
      deadLettered: Number(row.invalid),
      digest: totalsDigest(totals),
    };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
