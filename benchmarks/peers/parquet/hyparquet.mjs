// hyparquet peer of the Parquet benchmark, as its README shows: `parquetReadObjects` with
// columns id and amount and the filter (which also skips row groups by statistics):
// `node hyparquet.mjs FILE WHERE-JSON`.
import process from "node:process";
import { asyncBufferFromFile, parquetReadObjects } from "hyparquet";

const file = await asyncBufferFromFile(process.argv[2]);
const rows = await parquetReadObjects({
  file,
  columns: ["id", "amount"],
  filter: JSON.parse(process.argv[3]),
});
let checksum = 0;
for (const row of rows) checksum += Number(row.id);
process.stdout.write(`${JSON.stringify({ rows: rows.length, checksum })}\n`);
