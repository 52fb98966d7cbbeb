// The floor of the run-core benchmark: sluice's CSV parser alone (the built module, no engine,
// no Effect, no journal) in one loop, pushing 64 KiB slices of 1 MiB reads as the file source
// does; run as `node parser-only.mjs FILE`. What a `sluice run` costs beyond it is the engine's.
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
for (;;) {
  const buf = new Uint8Array(1 << 20); // a fresh buffer per read, as the file source does
  const n = readSync(fd, buf, 0, buf.length, null);
  if (n === 0) break;
  // 64 KiB pushes, as the file source makes (records stay young in the GC).
  for (let off = 0; off < n; off += 1 << 16)
    take(parser.push(buf.subarray(off, Math.min(n, off + (1 << 16)))));
}
closeSync(fd);
take(parser.finish());
process.stdout.write(`${JSON.stringify({ rows, checksum })}\n`);
