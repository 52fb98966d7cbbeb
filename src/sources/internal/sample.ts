/**
 * @module The first records of a file, read by the same parsers the sources use: the sample that
 * schema inference looks at (`infer: true` on the JSON source, and `sluice schema FILE`).
 */
import { fs } from "../../runtime/fs.ts";
import { CsvParser } from "./csv-parser.ts";
import { PUSH_BYTES, sampleParser } from "./file-source.ts";
import { JsonArrayParser } from "./json-array-parser.ts";
import { JsonShapeProblem, parseJsonPath } from "./json-path.ts";
import { NdjsonParser } from "./ndjson-parser.ts";

export type SampleFormat = "csv" | "ndjson" | "json";

/** The format a file name implies (`.csv`, `.tsv`, `.ndjson`, `.jsonl`, `.json`), if any. */
export function formatOf(file: string): SampleFormat | undefined {
  const ext = /\.([^./\\]+)$/.exec(file.toLowerCase())?.[1];
  if (ext === "csv" || ext === "tsv") return "csv";
  if (ext === "ndjson" || ext === "jsonl") return "ndjson";
  if (ext === "json") return "json";
  return undefined;
}

/** The first `n` elements of the array at `jsonPath` (`$`, `$.items`) in a JSON file. */
export async function sampleJson(path: string, jsonPath: string, n: number): Promise<unknown[]> {
  const parser = new JsonArrayParser({ path: parseJsonPath(jsonPath), pathText: jsonPath });
  const out: unknown[] = [];
  for await (const buf of fs.read(path, { bufferSize: PUSH_BYTES })) {
    out.push(...parser.push(buf).records);
    if (out.length >= n || parser.done) return out.slice(0, n);
  }
  out.push(...parser.finish().records);
  return out.slice(0, n);
}

/** The first `n` records of a CSV (header row, `delimiter`), NDJSON or JSON file. */
export async function sampleFile(
  path: string,
  format: SampleFormat,
  options: { n: number; jsonPath?: string; delimiter?: string },
): Promise<unknown[]> {
  switch (format) {
    case "csv":
      return sampleParser(
        new CsvParser<true>({
          header: true,
          delimiter: options.delimiter ?? (path.endsWith(".tsv") ? "\t" : ","),
        }),
        path,
        options.n,
      );
    case "ndjson":
      return sampleParser(new NdjsonParser(), path, options.n);
    case "json":
      return sampleJson(path, options.jsonPath ?? "$", options.n);
  }
}

export { JsonShapeProblem };
