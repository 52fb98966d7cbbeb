// DuckDB peer of the run-core benchmark: `read_csv` of the orders CSV on one thread, every
// column read, run as `node duckdb.mjs FILE` (a user's one-off with @duckdb/node-api).
import process from "node:process";
import { DuckDBInstance } from "@duckdb/node-api";

const db = await DuckDBInstance.create(":memory:", { threads: "1" });
const conn = await db.connect();
const file = process.argv[2].replaceAll("'", "''");
const r = await conn.runAndReadAll(
  `SELECT count(*) AS rows, sum(length(coalesce(note, ''))) AS checksum,
          max(id), max("user"), max(category), max(amount), max(ts)
   FROM read_csv('${file}', header = true)`,
);
const [row] = r.getRowObjectsJson();
process.stdout.write(`${JSON.stringify({ rows: Number(row.rows), checksum: Number(row.checksum) })}\n`);
