/**
 * @module NDJSON file source: one JSON value per line, streamed in 1 MiB
 * buffers with bounded memory and resumable at byte offsets. An invalid line
 * goes to the dead letter with its line number, byte offset, raw text and the
 * JSON error; with a zod schema (or `infer: true`: one inferred at open from
 * the first lines, as `sluice schema FILE` prints it), records are validated too.
 */
import { z } from "zod";
import { ConfigError } from "../pipeline/errors.ts";
import { parseComponentOptions } from "../pipeline/internal/options.ts";
import type { Source } from "../pipeline/types.ts";
import { toBytes } from "../pipeline/units.ts";
import { TEXT_ENCODINGS, type TextEncodingName } from "./internal/encoding.ts";
import { fileSource } from "./internal/file-source.ts";
import { InferOption, inferSpec } from "./internal/infer.ts";
import { NdjsonParser } from "./internal/ndjson-parser.ts";

export const NdjsonSourceOptions = z
  .object({
    /** zod schema to validate/coerce each record. */
    schema: z.custom<z.ZodType>((v) => v instanceof z.ZodType, "must be a zod schema").optional(),
    /**
     * `true` or `{ sample: N }`: infer a schema at open from the first 1000 (N) records and validate
     * every record with it (failures go to the dead letter). `sluice schema FILE` prints it.
     */
    infer: InferOption,
    /** Read buffer (and so chunk) size; default "1MiB". */
    bufferSize: z.union([z.number(), z.string()]).default("1MiB"),
    /** Longest line accepted; longer ones go to the dead letter. Default "64MiB". */
    maxRecordBytes: z.union([z.number(), z.string()]).default("64MiB"),
    /**
     * `"utf-8"` (default): a line with bytes that are not UTF-8 goes to the dead letter, naming
     * the byte; `"replace"`: they are read as U+FFFD; `"latin1"`: ISO-8859-1, one byte a character.
     */
    encoding: z.enum(TEXT_ENCODINGS as [TextEncodingName, ...TextEncodingName[]]).default("utf-8"),
  })
  .strict();

type Opts = z.input<typeof NdjsonSourceOptions>;

/**
 * Reads a file of JSON lines.
 *
 * @example
 * ```ts
 * pipeline("events").from(ndjson("data/events.ndjson")).via(filter((e) => e.type === "click")).to(console());
 * ```
 */
export function ndjson<S extends z.ZodType>(path: string, options: Opts & { schema: S }): Source<z.output<S>>;
export function ndjson<A = Record<string, unknown>>(path: string, options?: Opts): Source<A>;
export function ndjson(path: string, options: Opts = {}): Source<unknown> {
  if (typeof path !== "string" || path.length === 0)
    throw new ConfigError("ndjson(): the path must be a non-empty string");
  const component = `ndjson("${path}")`;
  const o = parseComponentOptions(component, NdjsonSourceOptions, options);
  const maxRecordBytes = toBytes(o.maxRecordBytes as never, "ndjson maxRecordBytes");
  return fileSource<unknown, unknown>({
    kind: "ndjson",
    path,
    bufferSize: toBytes(o.bufferSize as never, "ndjson bufferSize"),
    schema: o.schema,
    infer: inferSpec(component, o.infer, o.schema, false),
    async makeParser(_file, start) {
      return new NdjsonParser({
        maxRecordBytes,
        encoding: o.encoding,
        startOffset: start?.byte ?? 0,
        startLine: start?.line ?? 1,
      });
    },
  });
}
