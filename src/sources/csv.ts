/**
 * @module CSV file source: RFC 4180 via the hand-written incremental parser
 * (`internal/csv-parser.ts`, which says why it is hand-written), streamed in
 * 1 MiB buffers with bounded memory, resumable at byte offsets. Without a
 * schema every value is the exact string from the file; with a zod schema,
 * records are validated/coerced and failures go to the dead letter; with
 * `infer: true` the schema is inferred at open from the first rows
 * (`internal/infer.ts`, the same as `sluice schema FILE` prints).
 */
import { z } from "zod";
import { ConfigError } from "../pipeline/errors.ts";
import { parseComponentOptions } from "../pipeline/internal/options.ts";
import type { Source } from "../pipeline/types.ts";
import { toBytes } from "../pipeline/units.ts";
import { fs } from "../runtime/fs.ts";
import { CsvParser, WARN_RECORD_BYTES, WARN_RECORD_LINES } from "./internal/csv-parser.ts";
import { TEXT_ENCODINGS, type TextEncodingName } from "./internal/encoding.ts";
import { fileSource } from "./internal/file-source.ts";
import { InferOption, inferSpec } from "./internal/infer.ts";

export const CsvSourceOptions = z
  .object({
    /** `true` (default): first row names the columns; `string[]`: these names, no header row; `false`: records are arrays. */
    header: z.union([z.boolean(), z.array(z.string()).min(1)]).default(true),
    delimiter: z
      .string()
      .regex(/^[\x20-\x7e\t]$/, "must be one printable ASCII character or a tab")
      .default(","),
    quote: z
      .string()
      .regex(/^[\x20-\x7e]$/, "must be one printable ASCII character")
      .default('"'),
    /** zod schema to validate/coerce each record. */
    schema: z.custom<z.ZodType>((v) => v instanceof z.ZodType, "must be a zod schema").optional(),
    /**
     * `true` or `{ sample: N }`: infer a schema at open from the first 1000 (N) records and validate
     * every record with it (failures go to the dead letter). `sluice schema FILE` prints it.
     */
    infer: InferOption,
    /** Read buffer (and so chunk) size; default "1MiB". */
    bufferSize: z.union([z.number(), z.string()]).default("1MiB"),
    /** Longest record accepted; longer ones go to the dead letter. Default "64MiB". */
    maxRecordBytes: z.union([z.number(), z.string()]).default("64MiB"),
    /**
     * `"utf-8"` (default): a record with bytes that are not UTF-8 goes to the dead letter, naming
     * the byte; `"replace"`: they are read as U+FFFD; `"latin1"`: ISO-8859-1, one byte a character.
     */
    encoding: z.enum(TEXT_ENCODINGS as [TextEncodingName, ...TextEncodingName[]]).default("utf-8"),
    /** Keep a quote inside an unquoted field, and text after a closing quote, as data (as Python and papaparse do). Default false: the record goes to the dead letter. */
    relaxQuotes: z.boolean().default(false),
    /** A record covering more input lines than this raises a `warning` (a likely unclosed quote). Default 1000. */
    warnRecordLines: z.number().int().positive().default(WARN_RECORD_LINES),
    /** A record larger than this raises a `warning`. Default "1MiB". */
    warnRecordBytes: z.union([z.number(), z.string()]).default(WARN_RECORD_BYTES),
  })
  .strict();

type Opts = z.input<typeof CsvSourceOptions>;

/**
 * Reads a CSV file.
 *
 * @example
 * ```ts
 * const Order = z.object({ id: z.coerce.number(), amount: z.coerce.number() });
 * pipeline("orders").from(csv("data/orders.csv", { schema: Order })).to(ndjson("out/orders.ndjson"));
 * ```
 */
export function csv<S extends z.ZodType>(path: string, options: Opts & { schema: S }): Source<z.output<S>>;
export function csv(
  path: string,
  options: Opts & { infer: true | { sample: number } },
): Source<Record<string, unknown>>;
export function csv(
  path: string,
  options?: Opts & { header?: true | string[] },
): Source<Record<string, string>>;
export function csv(path: string, options: Opts & { header: false }): Source<string[]>;
export function csv(path: string, options: Opts = {}): Source<unknown> {
  if (typeof path !== "string" || path.length === 0)
    throw new ConfigError("csv(): the path must be a non-empty string");
  const component = `csv("${path}")`;
  const o = parseComponentOptions(component, CsvSourceOptions, options);
  if (o.infer !== false && o.header === false)
    throw new ConfigError(`${component}: infer needs named columns`, {
      hint: "Use header: true (the first row names the columns) or header: [names] with infer.",
    });
  if (o.delimiter === o.quote) throw new ConfigError(`csv("${path}"): delimiter and quote must differ`);
  const bufferSize = toBytes(o.bufferSize as never, "csv bufferSize");
  const maxRecordBytes = toBytes(o.maxRecordBytes as never, "csv maxRecordBytes");
  const warnBytes = toBytes(o.warnRecordBytes as never, "csv warnRecordBytes");
  return fileSource<unknown, unknown>({
    kind: "csv",
    path,
    bufferSize,
    schema: o.schema,
    infer: inferSpec(component, o.infer, o.schema, true),
    async makeParser(file, start) {
      let header: boolean | string[] = o.header;
      if (start && start.byte > 0 && header === true)
        header = await readHeader(file, o.delimiter, o.quote, o.encoding);
      return new CsvParser<boolean | string[]>({
        header,
        delimiter: o.delimiter,
        quote: o.quote,
        encoding: o.encoding,
        relaxQuotes: o.relaxQuotes,
        warnLines: o.warnRecordLines,
        warnBytes,
        maxRecordBytes,
        startOffset: start?.byte ?? 0,
        startLine: start?.line ?? 1,
      });
    },
  });
}

/** The column names from the file's first row (when resuming past it). */
async function readHeader(
  file: string,
  delimiter: string,
  quote: string,
  encoding: TextEncodingName,
): Promise<string[]> {
  const p = new CsvParser({ header: true, delimiter, quote, encoding });
  for await (const buf of fs.read(file, { bufferSize: 64 * 1024 })) {
    p.push(buf);
    if (p.columns) return [...p.columns];
  }
  p.finish();
  if (p.columns) return [...p.columns];
  throw new ConfigError(`csv: cannot resume ${file}: its header row is gone`);
}
