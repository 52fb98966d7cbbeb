/**
 * @module The Parquet source's read loop: for each file (in glob order) read the footer, let
 * hyparquet's `parquetScan` drop the row groups whose min/max statistics exclude `where`
 * (counted as skipped), then per remaining row group decode only the needed column chunks,
 * evaluate `where` on the column arrays and build records for the matching rows only, in
 * chunks of `chunkRows` input rows. Memory is bounded by one row group of the needed columns.
 * A chunk's `end` offset is `{ file, fileIndex, rowGroup, row }` (the next row to read), so a
 * resumed run continues inside a row group.
 *
 * Bad input does not stop the run: a file that is not Parquet (or truncated: no footer) and a
 * row group whose pages cannot be decoded each go to the dead letter as one entry naming the
 * file (and row group), and reading goes on with the next one.
 */
import { type FileMetaData, parquetMetadataAsync, parquetScan, parquetSchema } from "hyparquet";
import type { z } from "zod";
import type { Chunk } from "../../pipeline/chunk.ts";
import { describeError, SourceError } from "../../pipeline/errors.ts";
import type { SourceContext } from "../../pipeline/types.ts";
import { fs, paths, type RandomReader } from "../../runtime/fs.ts";
import { type ColumnCondition, selectRows } from "./parquet-where.ts";

export interface ParquetReadSpec {
  /** Absolute paths, in reading order. */
  readonly files: ReadonlyArray<string>;
  /** True when the user's path was absolute (records' positions then name files absolutely). */
  readonly absolute: boolean;
  readonly columns?: ReadonlyArray<string>;
  readonly conditions: ReadonlyArray<ColumnCondition>;
  readonly pruning: Record<string, Record<string, unknown>> | undefined;
  readonly int64: "number" | "bigint";
  readonly chunkRows: number;
  readonly schema?: z.ZodType;
}

/** What the source tells the run summary. */
export interface ParquetReadStats {
  files: number;
  badFiles: number;
  rowGroups: number;
  skipped: number;
  scanned: number;
  matched: number;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export async function* readParquet(
  spec: ParquetReadSpec,
  ctx: SourceContext,
  stats: ParquetReadStats,
): AsyncGenerator<Chunk<unknown>> {
  const r = ctx.resumeFrom;
  const resume =
    typeof r?.fileIndex === "number"
      ? { fileIndex: r.fileIndex, rowGroup: Number(r.rowGroup ?? 0), row: Number(r.row ?? 0), file: r.file }
      : undefined;
  // Files are named as the user named them: relative to the working directory for a relative path or glob.
  const label = (abs: string) => (spec.absolute ? abs : paths.relative(paths.resolve("."), abs) || abs);
  const sizes: number[] = [];
  for (const f of spec.files) sizes.push((await fs.stat(f))?.size ?? 0);
  let before = 0; // bytes of the files already read (progress)
  let seq = 0;
  for (let fi = 0; fi < spec.files.length; fi++) {
    const abs = spec.files[fi] as string;
    const file = label(abs);
    const size = sizes[fi] ?? 0;
    if (resume && fi < resume.fileIndex) {
      before += size;
      continue;
    }
    if (resume && fi === resume.fileIndex && resume.file !== undefined && resume.file !== file) {
      throw new SourceError(
        `parquet source: cannot resume: file ${fi + 1} is now ${file}, the checkpoint was taken in ${resume.file}`,
        { hint: "The glob matches other files than when the run started. Run again with --fresh." },
      );
    }
    if (ctx.signal.aborted) return;
    stats.files++;
    const reader = await fs.openRandom(abs);
    try {
      let metadata: FileMetaData;
      try {
        metadata = await parquetMetadataAsync(asyncBuffer(reader));
      } catch (e) {
        stats.badFiles++;
        ctx.deadLetter({
          reason: `not a readable Parquet file (${describeError(e)}): ${file} (${size} bytes); the file is skipped`,
          error: e,
          position: { file },
        });
        before += size;
        continue;
      }
      const names = parquetSchema(metadata).children.map((c) => c.element.name);
      const wanted = spec.columns ?? names;
      const needed = [...new Set([...wanted, ...spec.conditions.map((c) => c.column)])];
      const missing = needed.filter((c) => !names.includes(c));
      if (missing.length) {
        throw new SourceError(
          `parquet source: ${file} has no column${missing.length > 1 ? "s" : ""} ${missing.map((m) => JSON.stringify(m)).join(", ")}`,
          { hint: `Its columns are: ${names.join(", ")}. Check \`columns\` and \`where\`.` },
        );
      }
      const bigintCols = wanted.map((c) => metadata.schema.find((s) => s.name === c)?.type === "INT64");
      const scan = await parquetScan({
        file: asyncBuffer(reader),
        metadata,
        columns: needed,
        pruningFilter: spec.pruning as never,
        useOffsetIndex: false,
      });
      const kept = new Set(scan.ranges.map((x) => x.rowStart));
      const totalRows = Number(metadata.num_rows) || 1;
      let groupStart = 0;
      for (let g = 0; g < metadata.row_groups.length; g++) {
        const rg = metadata.row_groups[g] as FileMetaData["row_groups"][number];
        const rows = Number(rg.num_rows);
        const start = groupStart;
        groupStart += rows;
        if (resume && fi === resume.fileIndex && g < resume.rowGroup) continue;
        stats.rowGroups++;
        if (!kept.has(start) || rows === 0) {
          if (rows > 0) stats.skipped++;
          continue;
        }
        const first = resume && fi === resume.fileIndex && g === resume.rowGroup ? resume.row : 0;
        if (first >= rows) continue;
        let data: ArrayLike<unknown>[];
        try {
          data = await Promise.all(
            needed.map((column) =>
              scan.readColumn({ column, rowStart: start, rowEnd: start + rows }),
            ) as Promise<ArrayLike<unknown>>[],
          );
        } catch (e) {
          ctx.deadLetter({
            reason: `cannot decode row group ${g} of ${file} (rows ${start}..${start + rows - 1}: ${describeError(e)}); the row group is skipped`,
            error: e,
            position: { file, rowGroup: g, row: start },
          });
          continue;
        }
        const condCols = spec.conditions.map((c) => data[needed.indexOf(c.column)] as ArrayLike<unknown>);
        const outCols = wanted.map((c) => data[needed.indexOf(c)] as ArrayLike<unknown>);
        const groupBytes = needed.reduce((n, c) => {
          const cc = rg.columns.find((x) => x.meta_data?.path_in_schema[0] === c);
          return n + Number(cc?.meta_data?.total_compressed_size ?? 0);
        }, 0);
        for (let from = first; from < rows; from += spec.chunkRows) {
          if (ctx.signal.aborted) return;
          const to = Math.min(rows, from + spec.chunkRows);
          const selected = selectRows(spec.conditions, condCols, from, to);
          stats.scanned += to - from;
          stats.matched += selected.length;
          const records: unknown[] = [];
          for (const i of selected) {
            const rec: Record<string, unknown> = {};
            let bad: string | undefined;
            for (let k = 0; k < wanted.length; k++) {
              let v = (outCols[k] as ArrayLike<unknown>)[i];
              if (bigintCols[k] && typeof v === "bigint" && spec.int64 === "number") {
                if (v > SAFE || v < -SAFE) {
                  bad ??= `int64 value ${v} in column "${wanted[k]}" is beyond Number.MAX_SAFE_INTEGER; read it with int64: "bigint"`;
                } else v = Number(v);
              }
              rec[wanted[k] as string] = v;
            }
            const position = { file, rowGroup: g, row: start + i };
            if (bad) {
              ctx.deadLetter({ reason: bad, position });
              continue;
            }
            if (spec.schema) {
              const res = spec.schema.safeParse(rec);
              if (res.success) records.push(res.data);
              else
                ctx.deadLetter({
                  reason: `schema: ${res.error.issues.map((x) => `${x.path.join(".") || "(record)"}: ${x.message}`).join("; ")}`,
                  record: rec,
                  position,
                });
            } else records.push(rec);
          }
          const done = before + (size * (start + to)) / totalRows;
          ctx.reportRead(Math.round(done));
          yield {
            records,
            seq: seq++,
            start: { file, fileIndex: fi, rowGroup: g, row: from },
            end:
              to < rows
                ? { file, fileIndex: fi, rowGroup: g, row: to }
                : next(spec.files, label, fi, g, metadata),
            bytes: Math.round((groupBytes * (to - from)) / rows),
            createdAt: ctx.clock.monotonic(),
          };
        }
      }
      before += size;
    } finally {
      await reader.close();
    }
  }
}

/** The offset after row group `g` of file `fi`: the next group, or the next file's start. */
function next(
  files: ReadonlyArray<string>,
  label: (f: string) => string,
  fi: number,
  g: number,
  m: FileMetaData,
) {
  if (g + 1 < m.row_groups.length)
    return { file: label(files[fi] as string), fileIndex: fi, rowGroup: g + 1, row: 0 };
  const nf = files[fi + 1];
  // Past the last file, the offset still names it (a resume there reads nothing).
  return { file: label(nf ?? (files[fi] as string)), fileIndex: fi + 1, rowGroup: 0, row: 0 };
}

/** hyparquet's file interface over a runtime file handle. */
function asyncBuffer(reader: RandomReader) {
  return {
    byteLength: reader.size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const bytes = await reader.read(start, end ?? reader.size);
      return bytes.byteLength === bytes.buffer.byteLength
        ? (bytes.buffer as ArrayBuffer)
        : (bytes.slice().buffer as ArrayBuffer);
    },
  };
}
