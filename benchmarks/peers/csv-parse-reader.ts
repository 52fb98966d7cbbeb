/**
 * @module csv-parse peer for `benchmarks/csv-parse.bench.ts`: the library's recommended streaming use
 * (a Node file stream, default 64 KiB chunks, piped into `parse({ columns: true })`, drained on
 * `readable`), producing one object per row like our parser does.
 */
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import type { BenchRow, ReadResult } from "./csv-bench-types.ts";

export function read(file: string): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    let checksum = 0;
    const parser = parse({ columns: true });
    parser.on("readable", () => {
      let r: BenchRow | null = parser.read();
      while (r !== null) {
        rows++;
        checksum = (checksum + r.note.length + r.email.length) | 0;
        r = parser.read();
      }
    });
    parser.on("error", reject);
    parser.on("end", () => resolve({ rows, checksum }));
    createReadStream(file).on("error", reject).pipe(parser);
  });
}
