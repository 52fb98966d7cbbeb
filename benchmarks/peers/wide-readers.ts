/**
 * @module Peers of the `memory-bound` scenario: `csv-parse-reader.ts` and
 * `papaparse-reader.ts` (written for `benchmarks/csv-parse.bench.ts`) as
 * they are, adapted to the scenario's peer signature. Their checksum is the
 * output digest sluice must match.
 */
import type { Outcome } from "../../src/bench/scenario.ts";
import { read as readCsvParse } from "./csv-parse-reader.ts";
import { read as readPapaparse } from "./papaparse-reader.ts";

interface WideData {
  readonly file: string;
}

export async function csvParse(d: WideData): Promise<Outcome> {
  const r = await readCsvParse(d.file);
  return { rowsIn: r.rows, rowsOut: r.rows, digest: String(r.checksum) };
}

export async function papaparse(d: WideData): Promise<Outcome> {
  const r = await readPapaparse(d.file);
  return { rowsIn: r.rows, rowsOut: r.rows, digest: String(r.checksum) };
}
