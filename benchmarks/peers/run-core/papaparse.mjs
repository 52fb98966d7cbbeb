// papaparse peer of the run-core benchmark: what a user's script does to read the orders CSV
// to records (Node file stream, header: true, the chunk callback — papaparse's fastest
// streaming mode), run as `node papaparse.mjs FILE`.
import { createReadStream } from "node:fs";
import process from "node:process";
import Papa from "papaparse";

let rows = 0;
let checksum = 0;
const stream = createReadStream(process.argv[2]);
stream.setEncoding("utf8");
Papa.parse(stream, {
  header: true,
  skipEmptyLines: true,
  chunk(results) {
    const data = results.data;
    for (let i = 0; i < data.length; i++) checksum += data[i].note.length;
    rows += data.length;
  },
  complete: () => process.stdout.write(`${JSON.stringify({ rows, checksum })}\n`),
  error: (e) => {
    console.error(e);
    process.exit(1);
  },
});
