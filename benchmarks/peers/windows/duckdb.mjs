// The DuckDB peer of the windows benchmark: the same per-key 1-minute totals as SQL
// (`GROUP BY time_bucket`) over the CSV on one thread, run as `node duckdb.mjs FILE`
// (a user's one-off with @duckdb/node-api). No record in the data is later than the
// watermark allows, so it must agree with sluice and the loop.
import process from "node:process";
import { DuckDBInstance } from "@duckdb/node-api";

const db = await DuckDBInstance.create(":memory:", { threads: "1" });
const conn = await db.connect();
await conn.run("SET threads = 1");
const file = process.argv[2].replaceAll("'", "''");
const r = await conn.runAndReadAll(
  `WITH w AS (
     SELECT time_bucket(INTERVAL 1 MINUTE, epoch_ms(ts)) AS bucket, key, count(*) AS n, sum(amount) AS total
     FROM read_csv('${file}', header = true, columns = {'ts': 'BIGINT', 'key': 'VARCHAR', 'amount': 'BIGINT'})
     GROUP BY bucket, key)
   SELECT count(*) AS rows, sum(n) AS records, sum(total) AS sum FROM w`,
);
const [row] = r.getRowObjectsJson();
process.stdout.write(
  `${JSON.stringify({ rows: Number(row.rows), records: Number(row.records), sum: Number(row.sum) })}\n`,
);
