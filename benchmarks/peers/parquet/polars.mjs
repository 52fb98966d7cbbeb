// nodejs-polars peer of the Parquet benchmark (a bench peer only): a lazy `scanParquet` with
// the predicate and columns id and amount, collected and turned into JS records:
// `node polars.mjs FILE clustered|scattered ROWS` (POLARS_MAX_THREADS is set by the bench).
import process from "node:process";
import pl from "nodejs-polars";

const [file, which, rows] = process.argv.slice(2);
const predicate = which === "clustered" ? pl.col("id").gtEq(Number(rows) * 0.99) : pl.col("user_id").lt(1000);
const df = await pl.scanParquet(file).filter(predicate).select("id", "amount").collect();
let checksum = 0;
const records = df.toRecords();
for (const row of records) checksum += Number(row.id);
process.stdout.write(`${JSON.stringify({ rows: records.length, checksum })}\n`);
