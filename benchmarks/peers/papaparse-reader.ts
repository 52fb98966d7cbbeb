/**
 * @module papaparse peer for `benchmarks/csv-parse.bench.ts`: streaming `Papa.parse` over a Node file
 * stream (default 64 KiB chunks, faster than 1 MiB for it) with `header: true` and the `chunk`
 * callback (its fastest streaming mode). The stream is
 * given `setEncoding("utf8")` because papaparse decodes each Buffer on its own, which would corrupt a
 * character split across two reads.
 */
import { createReadStream } from "node:fs";
import Papa from "papaparse";
import type { BenchRow, ReadResult } from "./csv-bench-types.ts";

export function read(file: string): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    let rows = 0;
    let checksum = 0;
    const stream = createReadStream(file);
    stream.setEncoding("utf8");
    Papa.parse<BenchRow>(stream, {
      header: true,
      skipEmptyLines: true,
      chunk(results) {
        const data = results.data;
        for (let i = 0; i < data.length; i++) {
          const r = data[i];
          checksum = (checksum + r.note.length + r.email.length) | 0;
        }
        rows += data.length;
      },
      complete: () => resolve({ rows, checksum }),
      error: reject,
    });
  });
}
