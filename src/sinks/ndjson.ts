/**
 * @module NDJSON file sink: one JSON value per line. Exactly-once through the
 * shared file-sink commit protocol.
 */
import type { Sink } from "../pipeline/types.ts";
import { fileSink } from "./internal/file-sink.ts";

/**
 * Writes records as JSON lines to `path` (created with its directory; replaced
 * atomically when the run completes).
 *
 * @example
 * ```ts
 * pipeline("p").from(csv("in.csv")).to(ndjson("out/in.ndjson"));
 * ```
 */
export function ndjson<A = unknown>(path: string): Sink<A> {
  return fileSink<A>("ndjson", path, () => ({
    encode(records) {
      let s = "";
      for (let i = 0; i < records.length; i++) s += `${JSON.stringify(records[i])}\n`;
      return s;
    },
  }));
}
