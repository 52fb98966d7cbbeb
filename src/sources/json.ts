/**
 * @module JSON file source: the elements of one array, the document itself (`path: "$"`, the
 * default) or the array at a path (`path: "$.items"`, `"$.data.rows"`), streamed in 64 KiB pieces
 * without loading the document: only the element being read is held (`internal/json-array-parser.ts`
 * says how, on `@streamparser/json`). Each record's position is its index in the array and the byte
 * offset where it starts. A syntax error (a truncated file, a stray byte) dead-letters the rest of
 * the file with the byte offset and the element it broke in; the elements before it go on down
 * the pipeline. A path that holds no array is a `SourceError` before any record.
 *
 * Resumable: a checkpoint stores `{ byte, index }` (where the last element read starts, and the
 * next index); a resumed run reads from that byte on and skips that one element, never the file
 * from its start.
 */
import * as Stream from "effect/Stream";
import { z } from "zod";
import type { Chunk, SourceOffset } from "../pipeline/chunk.ts";
import { ConfigError, describeError, SourceError } from "../pipeline/errors.ts";
import { parseComponentOptions } from "../pipeline/internal/options.ts";
import { type Source, type SourceContext, SourceTypeId } from "../pipeline/types.ts";
import { toBytes } from "../pipeline/units.ts";
import { fs, paths } from "../runtime/fs.ts";
import { PUSH_BYTES } from "./internal/file-source.ts";
import { InferOption, inferSchema, inferSpec, toZod } from "./internal/infer.ts";
import { type JsonArrayBatch, JsonShapeProblem, parseJsonPath } from "./internal/json-path.ts";
import { checkInputFile, validateRecords } from "./internal/validate.ts";

export const JsonSourceOptions = z
  .object({
    /** Where the array is: `"$"` (default: the document is the array) or `"$.a.b"` (object members). */
    path: z.string().default("$"),
    /** zod schema to validate/coerce each element. */
    schema: z.custom<z.ZodType>((v) => v instanceof z.ZodType, "must be a zod schema").optional(),
    /**
     * `true` or `{ sample: N }`: infer a schema at open from the first 1000 (N) elements and validate
     * every element with it (failures go to the dead letter). `sluice schema FILE --path P` prints it.
     */
    infer: InferOption,
    /** Read buffer size; default "1MiB". */
    bufferSize: z.union([z.number(), z.string()]).default("1MiB"),
  })
  .strict();

type Opts = z.input<typeof JsonSourceOptions>;

/**
 * Reads the elements of a JSON array: the whole document, or the array at `path`.
 *
 * @example
 * ```ts
 * // data/orders.json: { "meta": {…}, "items": [{ "id": 1, … }, …] }
 * pipeline("orders").from(json("data/orders.json", { path: "$.items", infer: true })).to(ndjson("out/orders.ndjson"));
 * ```
 */
export function json<S extends z.ZodType>(path: string, options: Opts & { schema: S }): Source<z.output<S>>;
export function json<A = Record<string, unknown>>(path: string, options?: Opts): Source<A>;
export function json(path: string, options: Opts = {}): Source<unknown> {
  if (typeof path !== "string" || path.length === 0)
    throw new ConfigError("json(): the path must be a non-empty string");
  const component = `json("${path}")`;
  const o = parseComponentOptions(component, JsonSourceOptions, options);
  let segments: string[];
  try {
    segments = parseJsonPath(o.path);
  } catch (e) {
    throw new ConfigError(`${component}: invalid options: path: ${describeError(e)}`);
  }
  const infer = inferSpec(component, o.infer, o.schema, false);
  const bufferSize = toBytes(o.bufferSize as never, "json bufferSize");
  const abs = () => paths.resolve(path);
  const spec: JsonSpec = { file: path, pathText: o.path, segments, bufferSize, schema: o.schema, infer };
  return {
    [SourceTypeId]: true,
    name: `json(${path}${o.path === "$" ? "" : ` ${o.path}`})`,
    async size() {
      return (await fs.stat(abs()))?.size;
    },
    check: () => checkInputFile("json", abs()),
    open(ctx: SourceContext): Stream.Stream<Chunk<unknown>, SourceError> {
      return Stream.fromAsyncIterable(read(spec, abs(), ctx), (e) =>
        e instanceof SourceError
          ? e
          : e instanceof JsonShapeProblem
            ? new SourceError(`json source: ${path}: ${e.message}`, {
                hint: `Point \`path\` at the array, e.g. json("${path}", { path: "$.items" }).`,
              })
            : new SourceError(`json source: reading ${abs()} failed: ${describeError(e)}`, { cause: e }),
      );
    },
  };
}

interface JsonSpec {
  readonly file: string;
  readonly pathText: string;
  readonly segments: string[];
  readonly bufferSize: number;
  readonly schema?: z.ZodType;
  readonly infer?: { readonly sample: number };
}

async function* read(spec: JsonSpec, abs: string, ctx: SourceContext): AsyncGenerator<Chunk<unknown>> {
  const r = ctx.resumeFrom;
  const resume =
    typeof r?.byte === "number" && typeof r.index === "number" ? { byte: r.byte, index: r.index } : undefined;
  // The tokenizer loads when a JSON source opens, not when a pipeline is built.
  const { JsonArrayParser } = await import("./internal/json-array-parser.ts");
  const { sampleJson } = await import("./internal/sample.ts");
  const schema = spec.infer
    ? toZod(inferSchema(await sampleJson(abs, spec.pathText, spec.infer.sample), { text: false }))
    : spec.schema;
  const parser = new JsonArrayParser({ path: spec.segments, pathText: spec.pathText, resume });
  const file = spec.file;
  let seq = 0;
  let last: SourceOffset | undefined = resume;
  let consumed = resume?.byte ?? 0;
  const toChunk = (batch: JsonArrayBatch): Chunk<unknown> => {
    const e = batch.error;
    if (e) {
      ctx.deadLetter({
        reason: e.reason,
        raw: e.raw,
        position:
          e.index === undefined
            ? { file, byteOffset: e.byteOffset }
            : { file, index: e.index, byteOffset: e.byteOffset },
      });
    }
    const records = validateRecords(batch.records, schema, ctx, (i) => ({
      raw: JSON.stringify(batch.records[i]),
      position: { file, index: batch.firstIndex + i, byteOffset: batch.starts[i] },
    }));
    ctx.reportRead(batch.consumed);
    const start = last;
    if (batch.end) last = batch.end;
    const bytes = batch.consumed - consumed;
    consumed = batch.consumed;
    return { records, seq: seq++, start, end: last, bytes, createdAt: ctx.clock.monotonic() };
  };
  for await (const buf of fs.read(abs, {
    start: resume?.byte ?? 0,
    bufferSize: spec.bufferSize,
    signal: ctx.signal,
  })) {
    for (let off = 0; off < buf.length; off += PUSH_BYTES) {
      const batch = parser.push(buf.subarray(off, Math.min(buf.length, off + PUSH_BYTES)));
      if (batch.records.length || batch.error) yield toChunk(batch);
      if (parser.done) return;
    }
  }
  const batch = parser.finish();
  if (batch.records.length || batch.error) yield toChunk(batch);
}
