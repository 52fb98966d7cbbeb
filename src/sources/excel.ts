/**
 * @module Excel (.xlsx) source: one sheet's rows streamed without loading the workbook. The sheet
 * list, shared strings and styles are read first through the zip directory, then the sheet's XML
 * is inflated and parsed as it is read (`internal/xlsx-zip.ts` says why not exceljs's own
 * `WorkbookReader`: its read order races, exceljs#3064), with exceljs's `WorksheetReader` typing
 * the cells. What stays in memory is the shared-strings table (every distinct text in the
 * workbook) and the styles; nothing grows with the row count. Cell values, ranges, headers,
 * merged and empty cells: `internal/excel-rows.ts`.
 *
 * Positions are (sheet, row) as Excel numbers rows. A checkpoint stores `{ sheet, row }`; a zip's
 * deflate stream cannot be entered in the middle, so a resumed run parses the sheet again from its
 * start and skips the rows up to that one (parse time, no records twice). A file that is not an
 * .xlsx, or a missing sheet, fails the run before any record; a sheet whose data breaks off
 * (a corrupt or truncated part) dead-letters the rest after the rows before it went on.
 */
import * as Stream from "effect/Stream";
import { z } from "zod";
import type { Chunk, SourceOffset } from "../pipeline/chunk.ts";
import { ConfigError, describeError, SourceError } from "../pipeline/errors.ts";
import { parseComponentOptions } from "../pipeline/internal/options.ts";
import { type Source, type SourceContext, SourceTypeId } from "../pipeline/types.ts";
import { fs, paths } from "../runtime/fs.ts";
import { type CellRange, parseRange, RowMapper, type RowResult } from "./internal/excel-rows.ts";
import { InferOption, inferSchema, inferSpec, toZod } from "./internal/infer.ts";
import { checkInputFile, validateRecords } from "./internal/validate.ts";
// The workbook reader (and exceljs under it) loads when an Excel source opens, not when a pipeline is built.
import type { OpenWorkbook, SheetInfo } from "./internal/xlsx-workbook.ts";
import { ZipFormatProblem } from "./internal/xlsx-zip.ts";

export const ExcelSourceOptions = z
  .object({
    /** The sheet's name, or its 1-based position in the workbook; default the first sheet. */
    sheet: z.union([z.string().min(1), z.number().int().positive()]).optional(),
    /** `true` (default): the range's first row names the columns; `string[]`: these names; `false`: records are arrays. */
    header: z.union([z.boolean(), z.array(z.string()).min(1)]).default(true),
    /** Cells to read: `"B3"` (from B3 right and down), `"B3:F"` (columns B–F) or `"B3:F100"`. Default all. */
    range: z.string().optional(),
    /** zod schema to validate/coerce each record. */
    schema: z.custom<z.ZodType>((v) => v instanceof z.ZodType, "must be a zod schema").optional(),
    /**
     * `true` or `{ sample: N }`: infer a schema at open from the first 1000 (N) rows and validate
     * every row with it (failures go to the dead letter). `sluice schema FILE.xlsx` prints it.
     */
    infer: InferOption,
    /** Rows per chunk; default 1000. */
    chunkRows: z.number().int().positive().default(1000),
  })
  .strict();

type Opts = z.input<typeof ExcelSourceOptions>;

interface ExcelSpec {
  readonly file: string;
  readonly sheet?: string | number;
  readonly header: boolean | readonly string[];
  readonly range: CellRange;
  readonly schema?: z.ZodType;
  readonly infer?: { readonly sample: number };
  readonly chunkRows: number;
}

/**
 * Reads one sheet of an .xlsx workbook.
 *
 * @example
 * ```ts
 * pipeline("orders").from(excel("data/orders.xlsx", { sheet: "Orders", infer: true })).to(ndjson("out/orders.ndjson"));
 * ```
 */
export function excel<S extends z.ZodType>(path: string, options: Opts & { schema: S }): Source<z.output<S>>;
export function excel(path: string, options: Opts & { header: false }): Source<unknown[]>;
export function excel<A = Record<string, unknown>>(path: string, options?: Opts): Source<A>;
export function excel(path: string, options: Opts = {}): Source<unknown> {
  if (typeof path !== "string" || path.length === 0)
    throw new ConfigError("excel(): the path must be a non-empty string");
  const component = `excel("${path}")`;
  const o = parseComponentOptions(component, ExcelSourceOptions, options);
  let range: CellRange;
  try {
    range = parseRange(o.range);
  } catch (e) {
    throw new ConfigError(`${component}: invalid options: range: ${describeError(e)}`);
  }
  if (o.infer !== false && o.header === false)
    throw new ConfigError(`${component}: infer needs named columns`, {
      hint: "Use header: true (the range's first row names the columns) or header: [names] with infer.",
    });
  const spec: ExcelSpec = {
    file: path,
    sheet: o.sheet,
    header: o.header,
    range,
    schema: o.schema,
    infer: inferSpec(component, o.infer, o.schema, false),
    chunkRows: o.chunkRows,
  };
  const abs = () => paths.resolve(path);
  return {
    [SourceTypeId]: true,
    name: `excel(${path}${o.sheet === undefined ? "" : ` ${o.sheet}`})`,
    async size() {
      return (await fs.stat(abs()))?.size;
    },
    check: () => checkInputFile("excel", abs()),
    open(ctx: SourceContext): Stream.Stream<Chunk<unknown>, SourceError> {
      return Stream.fromAsyncIterable(read(spec, abs(), ctx), (e) => toSourceError(e, path));
    },
  };
}

function toSourceError(e: unknown, file: string): SourceError {
  if (e instanceof SourceError) return e;
  if (e instanceof ZipFormatProblem)
    return new SourceError(`excel source: ${file}: ${e.message}`, {
      hint: "Open and save it as .xlsx (Excel Workbook); .xls and .xlsb files are other formats.",
    });
  return new SourceError(`excel source: reading ${file} failed: ${describeError(e)}`, { cause: e });
}

/** Opens the workbook and finds the sheet (by name or position; default the first). */
async function openSheet(path: string, file: string, want: string | number | undefined) {
  const { openWorkbook } = await import("./internal/xlsx-workbook.ts");
  const book = await openWorkbook(path);
  const sheet =
    want === undefined
      ? book.sheets[0]
      : typeof want === "number"
        ? book.sheets[want - 1]
        : book.sheets.find((s) => s.name === want);
  if (!sheet) {
    const names = book.sheets.map((s) => JSON.stringify(s.name)).join(", ");
    throw new SourceError(
      `excel source: ${file}: no sheet ${typeof want === "number" ? `at position ${want}` : JSON.stringify(want ?? "")}; its sheets: ${names || "none"}`,
      { hint: "Give `sheet` as one of those names or a 1-based position." },
    );
  }
  return { book, sheet };
}

/** Records (and row errors) of a sheet, in order; a break in the sheet's data ends them with `broken`. */
async function* sheetResults(
  book: OpenWorkbook,
  sheet: SheetInfo,
  spec: Pick<ExcelSpec, "range" | "header">,
  signal?: AbortSignal,
  onRead?: (offset: number) => void,
): AsyncGenerator<RowResult | { broken: string; after: number }> {
  const { sheetRows } = await import("./internal/xlsx-workbook.ts");
  const mapper = new RowMapper(spec.range, spec.header);
  let last = 0;
  try {
    for await (const row of sheetRows(book, sheet, signal, onRead)) {
      if (mapper.done(row)) return;
      last = row.number;
      const r = mapper.map(row);
      if (r) yield r;
    }
  } catch (e) {
    yield { broken: describeError(e), after: last };
  }
}

/** The first `n` records of a sheet (for `sluice schema`). */
export async function sampleExcel(path: string, options: { n: number; sheet?: string }): Promise<unknown[]> {
  const want =
    options.sheet !== undefined && /^\d+$/.test(options.sheet) ? Number(options.sheet) : options.sheet;
  const { book, sheet } = await openSheet(path, path, want).catch((e) => {
    throw toSourceError(e, path);
  });
  const out: unknown[] = [];
  for await (const r of sheetResults(book, sheet, { range: parseRange(undefined), header: true })) {
    if ("record" in r) out.push(r.record);
    if (out.length >= options.n) break;
  }
  return out;
}

async function* read(spec: ExcelSpec, abs: string, ctx: SourceContext): AsyncGenerator<Chunk<unknown>> {
  const { book, sheet } = await openSheet(abs, spec.file, spec.sheet);
  let schema = spec.schema;
  if (spec.infer) {
    const sample: unknown[] = [];
    for await (const r of sheetResults(book, sheet, spec)) {
      if ("record" in r) sample.push(r.record);
      if (sample.length >= spec.infer.sample) break;
    }
    schema = toZod(inferSchema(sample, { text: false }));
  }
  const r = ctx.resumeFrom;
  const skipTo = r?.sheet === sheet.name && typeof r.row === "number" ? r.row : 0;
  const file = spec.file;
  const where = (row: number) => ({ file, sheet: sheet.name, line: row });
  let seq = 0;
  let start: SourceOffset | undefined = skipTo ? { sheet: sheet.name, row: skipTo } : undefined;
  let records: unknown[] = [];
  let rows: number[] = [];
  let read = 0;
  let reported = 0;
  /** The last row read (a record or a row error): where a resumed run continues after. */
  let lastRow = 0;
  const flush = (): Chunk<unknown> => {
    const out = validateRecords(records, schema, ctx, (i) => ({
      position: where(rows[i]),
      raw: JSON.stringify(records[i]),
    }));
    const end = lastRow > 0 ? { sheet: sheet.name, row: lastRow } : start;
    const chunk: Chunk<unknown> = {
      records: out,
      seq: seq++,
      start,
      end,
      bytes: read - reported,
      createdAt: ctx.clock.monotonic(),
    };
    ctx.reportRead(read);
    reported = read;
    start = end;
    records = [];
    rows = [];
    return chunk;
  };
  for await (const res of sheetResults(book, sheet, spec, ctx.signal, (at) => {
    read = at;
  })) {
    if ("broken" in res) {
      ctx.deadLetter({
        reason: `the sheet's data breaks off after row ${res.after}: ${res.broken}. The rows before were read; the rest of the sheet was not`,
        position: where(res.after + 1),
      });
      break;
    }
    if (res.row <= skipTo) continue;
    lastRow = res.row;
    if ("error" in res) ctx.deadLetter({ reason: res.error, raw: res.raw, position: where(res.row) });
    else {
      records.push(res.record);
      rows.push(res.row);
      if (records.length >= spec.chunkRows) yield flush();
    }
  }
  if (records.length || read > reported) yield flush();
}
