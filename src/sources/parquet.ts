/**
 * @module Parquet file source: one file or a glob of files, with column projection (`columns`:
 * only those column chunks are read and decoded), a `where` filter pushed down to the row
 * groups (those whose min/max statistics exclude it are never read; the run summary says how
 * many were skipped) and evaluated on every row, chunks of bounded size, and a resumable offset
 * `(file, row group, row)`.
 *
 * Types map to JS plainly: INT32/FLOAT/DOUBLE → number; INT64 → number (`int64: "number"`, the
 * default; a value beyond ±2^53−1 is dead-lettered with a hint, never rounded) or bigint
 * (`int64: "bigint"`); strings → string; BOOLEAN → boolean; TIMESTAMP (milli/micro/nano) and
 * INT96 → Date (sub-millisecond digits are dropped: a Date holds milliseconds); DATE → Date at
 * UTC midnight; DECIMAL → number (a double: exact up to 15 significant digits); JSON → the
 * parsed value; lists and structs → arrays and objects; a null stays null.
 *
 * Library: `hyparquet` (pure JS, so the same code runs on Node, Bun and Deno, and a run that
 * reads Parquet does not load DuckDB). Its `parquetScan` plans the read from the footer, prunes
 * row groups by statistics with careful rules (UTF-8 byte order for strings, NaN, nulls) and
 * decodes one column chunk of one row group at a time, which is what resumable offsets and
 * bounded memory need. Measured (benchmarks/RESULTS.md, 10M rows × 10 columns, 2 columns, 1%
 * kept): with a clustered predicate (80 of 82 row groups skipped) the cost is sluice's start-up;
 * with a scattered one (nothing skipped) DuckDB's native reader needs ~6× less CPU (0.84 s vs
 * 5.25 s), which is the price of staying pure JS; hyparquet's one-call `parquetReadObjects` needs
 * 3× more than this source (it builds every row as an object before filtering; 1.9 GB RSS vs 250 MB).
 */

import * as Stream from "effect/Stream";
import { z } from "zod";
import { ConfigError, describeError, SourceError } from "../pipeline/errors.ts";
import { parseComponentOptions } from "../pipeline/internal/options.ts";
import { type Source, type SourceContext, SourceTypeId } from "../pipeline/types.ts";
import { errorCode, fs, paths } from "../runtime/fs.ts";
import { expandGlob, isGlob } from "./internal/glob.ts";
import type { ParquetReadStats } from "./internal/parquet-read.ts";
import { compileWhere, WhereSchema } from "./internal/parquet-where.ts";

export const ParquetSourceOptions = z
  .object({
    /** Columns to read (and the record's keys, in this order); default all top-level columns. */
    columns: z.array(z.string().min(1)).min(1).optional(),
    /** Filter: `{ amount: { $gt: 100 }, category: { $in: ["a", "b"] } }` ($eq $ne $gt $gte $lt $lte $in; columns ANDed). */
    where: WhereSchema.optional(),
    /** zod schema to validate/coerce each record. */
    schema: z.custom<z.ZodType>((v) => v instanceof z.ZodType, "must be a zod schema").optional(),
    /** INT64 columns as `"number"` (default; unsafe values are dead-lettered) or `"bigint"`. */
    int64: z.enum(["number", "bigint"]).default("number"),
    /** Input rows per chunk (before `where`); default 16384. */
    chunkRows: z.number().int().min(1).default(16_384),
  })
  .strict();

type Opts = z.input<typeof ParquetSourceOptions>;

/**
 * Reads Parquet files: a path or a glob (`data/*.parquet`, `data/**\/*.parquet`).
 *
 * @example
 * ```ts
 * pipeline("big-orders")
 *   .from(parquet("data/orders/*.parquet", { columns: ["id", "amount"], where: { amount: { $gt: 100 } } }))
 *   .to(ndjson("out/big-orders.ndjson"));
 * ```
 */
export function parquet<S extends z.ZodType>(
  path: string,
  options: Opts & { schema: S },
): Source<z.output<S>>;
export function parquet<A = Record<string, unknown>>(path: string, options?: Opts): Source<A>;
export function parquet(path: string, options: Opts = {}): Source<unknown> {
  if (typeof path !== "string" || path.length === 0)
    throw new ConfigError("parquet(): the path must be a non-empty string");
  const o = parseComponentOptions(`parquet("${path}")`, ParquetSourceOptions, options);
  const { conditions, pruning } = compileWhere(o.where);
  const files = async (): Promise<string[]> => {
    const found = await expandGlob(path);
    if (found.length === 0) {
      throw new SourceError(`parquet source: no file matches ${paths.resolve(path)}`, {
        hint: "Check the glob (relative paths are resolved from the working directory).",
      });
    }
    return found;
  };
  return {
    [SourceTypeId]: true,
    name: `parquet(${path})`,
    async size() {
      let n = 0;
      for (const f of await files()) n += (await fs.stat(f))?.size ?? 0;
      return n;
    },
    async check() {
      for (const f of await files()) {
        const info = await fs.stat(f);
        if (!info) {
          throw new SourceError(`parquet source: input file not found: ${f}`, {
            hint: isGlob(path)
              ? undefined
              : "Check the path (relative paths are resolved from the working directory).",
          });
        }
        if (!info.isFile) throw new SourceError(`parquet source: not a regular file: ${f}`);
        if (!(await fs.canRead(f))) {
          throw new SourceError(`parquet source: cannot read ${f} (permission denied)`, {
            hint: "Make the file readable by this user.",
          });
        }
      }
    },
    open(ctx: SourceContext) {
      const stats: ParquetReadStats = {
        files: 0,
        badFiles: 0,
        rowGroups: 0,
        skipped: 0,
        scanned: 0,
        matched: 0,
      };
      async function* run() {
        // The reader (hyparquet) loads when a Parquet source opens, not when a pipeline is built.
        const { readParquet } = await import("./internal/parquet-read.ts");
        yield* readParquet(
          {
            files: await files(),
            absolute: paths.isAbsolute(path),
            columns: o.columns,
            conditions,
            pruning,
            int64: o.int64,
            chunkRows: o.chunkRows,
            schema: o.schema,
          },
          ctx,
          stats,
        );
        ctx.emit({
          kind: "log",
          level: "info",
          stage: ctx.stage,
          message: note(stats, conditions.length > 0),
        });
      }
      return Stream.fromAsyncIterable(run(), (e) =>
        e instanceof SourceError
          ? e
          : new SourceError(
              `parquet source: reading ${path} failed: ${describeError(e)} (${errorCode(e) ?? "io"})`,
              {
                cause: e,
              },
            ),
      );
    },
  };
}

/** The summary line: "parquet: 2 files, 10 of 80 row groups read (70 skipped by statistics); 1,000 of 1,310,720 rows matched where". */
function note(s: ParquetReadStats, filtered: boolean): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const files = `${n(s.files)} file${s.files === 1 ? "" : "s"}${s.badFiles ? ` (${n(s.badFiles)} unreadable)` : ""}`;
  const groups = `${n(s.rowGroups - s.skipped)} of ${n(s.rowGroups)} row groups read (${n(s.skipped)} skipped by statistics)`;
  const rows = filtered ? `; ${n(s.matched)} of ${n(s.scanned)} rows scanned matched where` : "";
  return `parquet: ${files}, ${groups}${rows}`;
}
