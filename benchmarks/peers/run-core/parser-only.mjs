// The floor of the run-core benchmark: sluice's CSV parser alone (the built module, no engine,
// no Effect, no journal), fed 1 MiB reads of the file in one loop, run as
// `node parser-only.mjs FILE`. What a `sluice run` costs beyond this is the engine's.
import { closeSync, openSync, readSync } from "node:fs";
import process from "node:process";
import { CsvParser } from "../../../dist/sources/internal/csv-parser.js";

const parser = new CsvParser({ header: true });
let rows = 0;
let checksum = 0;
const take = (batch) => {
  const records = batch.records;
  for (let i = 0; i < records.length; i++) checksum += records[i].note.length;
  rows += records.length;
};
const fd = openSync(process.argv[2], "r");
const buf = new Uint8Array(1 << 20);
for (;;) {
  const n = readSync(fd, buf, 0, buf.length, null);
  if (n === 0) break;
  take(parser.push(buf.subarray(0, n)));
}
closeSync(fd);
take(parser.finish());
process.stdout.write(`${JSON.stringify({ rows, checksum })}\n`);
