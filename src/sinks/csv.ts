/**
 * @module CSV file sink (RFC 4180 quoting). Columns come from the options or
 * from the first record's keys; values that are objects are written as JSON,
 * dates as ISO strings, null/undefined as empty fields.
 */
import { z } from "zod";
import { parseComponentOptions } from "../pipeline/internal/options.ts";
import type { Sink } from "../pipeline/types.ts";
import { fileSink } from "./internal/file-sink.ts";

export const CsvSinkOptions = z
  .object({
    columns: z.array(z.string()).optional(),
    delimiter: z.string().length(1).default(","),
    header: z.boolean().default(true),
  })
  .strict();
export type CsvSinkOptions = z.input<typeof CsvSinkOptions>;

/**
 * Writes records as CSV rows to `path`.
 *
 * @example
 * ```ts
 * pipeline("p").from(ndjson("in.ndjson")).to(csv("out/in.csv", { columns: ["id", "amount"] }));
 * ```
 */
export function csv<A extends Record<string, unknown> = Record<string, unknown>>(
  path: string,
  options: CsvSinkOptions = {},
): Sink<A> {
  const o = parseComponentOptions(`csv("${path}") sink`, CsvSinkOptions, options);
  const d = o.delimiter;
  const needsQuote = new RegExp(`[${d === "]" ? "\\]" : d.replace(/[\\^-]/g, "\\$&")}"\\r\\n]`);
  const field = (v: unknown): string => {
    if (v === null || v === undefined) return "";
    const s =
      typeof v === "string"
        ? v
        : v instanceof Date
          ? v.toISOString()
          : typeof v === "object"
            ? JSON.stringify(v)
            : String(v);
    return needsQuote.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return fileSink<A>("csv", path, () => {
    let columns = o.columns;
    const cols = (first: ReadonlyArray<A>) => {
      columns ??= Object.keys(first[0] ?? {});
      return columns;
    };
    return {
      header: o.header ? (first) => `${cols(first).map(field).join(d)}\n` : undefined,
      encode(records) {
        const c = cols(records);
        let s = "";
        for (const r of records) {
          for (let i = 0; i < c.length; i++) s += (i ? d : "") + field(r[c[i]]);
          s += "\n";
        }
        return s;
      },
    };
  });
}
