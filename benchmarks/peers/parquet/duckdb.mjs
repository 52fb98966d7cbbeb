// DuckDB peer of the Parquet benchmark: `read_parquet` on one thread, columns id and amount
// with the predicate as SQL, rows fetched into JS: `node duckdb.mjs FILE SQL-WHERE`.
import process from "node:process";
import { DuckDBInstance } from "@duckdb/node-api";

const db = await DuckDBInstance.create(":memory:", { threads: "1" });
const conn = await db.connect();
const file = process.argv[2].replaceAll("'", "''");
const r = await conn.runAndReadAll(`SELECT id, amount FROM read_parquet('${file}') WHERE ${process.argv[3]}`);
let rows = 0;
let checksum = 0;
for (const row of r.getRowObjectsJS()) {
  rows++;
  checksum += Number(row.id);
}
process.stdout.write(`${JSON.stringify({ rows, checksum })}\n`);
