/**
 * @module Parquet file sink, exactly-once like the other file sinks. Records are buffered into
 * row groups of `rowGroupRows`; a full row group is encoded (hyparquet-writer, pure JS) and
 * appended to `<target>.<runId>.part`, and its metadata appended to `<part>.meta` (tagged JSON,
 * one line per row group). At a checkpoint the rows still buffered are written as a (shorter)
 * row group, both files are fsynced and their lengths are the commit token. Resume truncates
 * both to the committed lengths and goes on writing; completion writes the footer (schema and
 * every row group's metadata) and renames the part file onto the target. So a reader only ever
 * sees a whole run's output, and a resumed run writes the same rows, in the same order, as an
 * uninterrupted one (row group boundaries may differ: they follow the checkpoints).
 *
 * Columns and types come from the first row group's records (number → DOUBLE, bigint → INT64,
 * string → STRING, boolean → BOOLEAN, Date → TIMESTAMP in milliseconds, other objects → JSON;
 * every column nullable), or `types` fixes them. A record whose value does not fit its column,
 * or that has a column the schema does not, goes to the dead letter with the reason.
 *
 * Library: `hyparquet-writer` (pure JS, runs on Node, Bun and Deno; no DuckDB in the run). Its
 * `ParquetWriter` takes whole columns per row group, so the sink buffers one row group of records;
 * its byte writer keeps a logical offset apart from its buffer, which lets a resumed run continue
 * a part file (offsets in the metadata stay absolute). Offset and column indexes are turned off:
 * they are written only in the footer and would have to survive a resume too. Not measured against
 * DuckDB's `COPY … TO` (that would load DuckDB into every run writing Parquet).
 */
import type { ByteWriter, ParquetWriter } from "hyparquet-writer";
import { z } from "zod";
import type { Chunk } from "../pipeline/chunk.ts";
import { SinkError } from "../pipeline/errors.ts";
import { parseComponentOptions } from "../pipeline/internal/options.ts";
import { type Sink, type SinkContext, SinkTypeId, type SinkWriter } from "../pipeline/types.ts";
import { fs, paths } from "../runtime/fs.ts";
import {
  type Column,
  fromTaggedJson,
  inferColumns,
  PARQUET_TYPES,
  schemaElements,
  toColumnValue,
  toTaggedJson,
} from "./internal/parquet-columns.ts";

export const ParquetSinkOptions = z
  .object({
    /** Rows per row group (checkpoints also end a row group); default 100000. */
    rowGroupRows: z.number().int().min(1).default(100_000),
    /** `"snappy"` (default) or `"none"`. */
    compression: z.enum(["snappy", "none"]).default("snappy"),
    /** Column types, overriding the inference from the first rows: `{ id: "INT64", at: "TIMESTAMP" }`. */
    types: z.record(z.string(), z.enum(PARQUET_TYPES)).optional(),
  })
  .strict();
export type ParquetSinkOptions = z.input<typeof ParquetSinkOptions>;

interface Token {
  readonly bytes: number;
  readonly metaBytes: number;
}

type RowGroups = ParquetWriter["row_groups"];

/**
 * Writes records to a Parquet file at `path` (created with its directory; replaced atomically
 * when the run completes).
 *
 * @example
 * ```ts
 * pipeline("p").from(csv("in.csv", { schema: Order })).to(parquet("out/orders.parquet", { rowGroupRows: 50_000 }));
 * ```
 */
export function parquet<A = Record<string, unknown>>(
  path: string,
  options: ParquetSinkOptions = {},
): Sink<A> {
  if (typeof path !== "string" || path.length === 0) {
    throw new SinkError("parquet(): the output path must be a non-empty string");
  }
  const o = parseComponentOptions(`parquet("${path}") sink`, ParquetSinkOptions, options);
  return {
    [SinkTypeId]: true,
    name: `parquet(${path})`,
    delivery: "exactly-once",
    async open(ctx: SinkContext): Promise<SinkWriter<A>> {
      // The encoder loads when a Parquet sink opens (before any file), not when a pipeline is built.
      const hw = await import("hyparquet-writer").catch((e: unknown) => {
        throw new SinkError(`parquet: cannot load hyparquet-writer: ${(e as Error).message}`, {
          hint: "Reinstall sluice's dependencies (npm install).",
        });
      });
      const target = paths.resolve(path);
      const part = `${target}.${ctx.runId}.part`;
      const meta = `${part}.meta`;
      try {
        await fs.mkdirp(paths.dirname(target));
      } catch (e) {
        throw new SinkError(`parquet: cannot create the directory for ${target}: ${(e as Error).message}`);
      }
      const resume = ctx.resumeToken as Token | undefined;
      let columns: Column[] | undefined;
      let restored: RowGroups = [];
      let bytes = 0;
      let metaBytes = 0;
      if (resume) {
        let info = await fs.stat(part);
        if (!info && (await fs.stat(target))) {
          // A crash after the final checkpoint and the rename, before the run was marked ended.
          if (!(await fs.stat(meta))) return finished(target); // the sidecar is gone too: all done
          // Take the target back as the part file; its footer is cut off below and written again.
          await fs.rename(target, part);
          info = await fs.stat(part);
        }
        const metaInfo = await fs.stat(meta);
        if (!info || info.size < resume.bytes || (metaInfo?.size ?? 0) < resume.metaBytes) {
          throw new SinkError(
            `parquet: cannot resume: ${part} (${info?.size ?? 0} bytes) or ${meta} (${metaInfo?.size ?? 0} bytes) is shorter than the checkpoint committed (${resume.bytes}, ${resume.metaBytes})`,
            { hint: "The part files were removed or truncated. Run again with --fresh to start over." },
          );
        }
        if (info.size > resume.bytes) await fs.truncate(part, resume.bytes);
        if ((metaInfo?.size ?? 0) > resume.metaBytes) await fs.truncate(meta, resume.metaBytes);
        bytes = resume.bytes;
        metaBytes = resume.metaBytes;
        if (metaBytes > 0) {
          const lines = new TextDecoder()
            .decode((await fs.readBytes(meta)).subarray(0, metaBytes))
            .split("\n");
          columns = fromTaggedJson(lines[0] as string) as Column[];
          restored = lines
            .slice(1)
            .filter(Boolean)
            .map((l) => fromTaggedJson(l)) as RowGroups;
        }
      }
      const file = await fs.openWriter(part, { append: Boolean(resume), mode: 0o644 });
      const metaFile = await fs.openWriter(meta, { append: Boolean(resume), mode: 0o644 });
      const encoder = new TextEncoder();
      let writer: ParquetWriter | undefined;
      let out: ByteWriter | undefined;
      const startWriter = (cols: Column[]) => {
        out = new hw.ByteWriter();
        writer = new hw.ParquetWriter({
          writer: out,
          schema: schemaElements(cols),
          codec: o.compression === "none" ? "UNCOMPRESSED" : "SNAPPY",
          createdBy: "sluice",
        });
        if (resume && bytes > 0) {
          // Continue the part file: drop the magic the constructor wrote, offsets go on from its end.
          out.index = 0;
          out.offset = bytes;
          writer.row_groups.push(...restored);
          writer.num_rows = restored.reduce((n, g) => n + g.num_rows, 0n);
        }
      };
      /** Appends what the writer encoded to the part file. */
      const drain = async () => {
        if (!out || out.index === 0) return;
        const data = out.getBytes().slice();
        out.index = 0;
        await file.write(data);
        bytes += data.length;
      };
      let pending: A[] = [];
      const writeGroup = async () => {
        if (pending.length === 0) return;
        const records = pending;
        pending = [];
        if (!columns) {
          columns = inferColumns(records, o.types);
          const line = encoder.encode(`${toTaggedJson(columns)}\n`);
          await metaFile.write(line);
          metaBytes += line.length;
        }
        if (!writer) startWriter(columns);
        const cols = columns;
        const known = new Set(cols.map((c) => c.name));
        const data: unknown[][] = cols.map(() => []);
        let n = 0;
        for (const r of records) {
          const rec = (r ?? {}) as Record<string, unknown>;
          let why: string | undefined;
          const extra =
            typeof rec === "object" ? Object.keys(rec).find((k) => !known.has(k)) : "(not an object)";
          if (extra !== undefined)
            why = `column "${extra}" is not in the file's schema (${cols.map((c) => c.name).join(", ")})`;
          const values: unknown[] = [];
          for (let k = 0; !why && k < cols.length; k++) {
            const c = cols[k] as Column;
            const v = toColumnValue(c.type, rec[c.name]);
            if (v.ok) values.push(v.value);
            else why = `column "${c.name}": ${v.why}`;
          }
          if (why) {
            ctx.deadLetter({
              reason: `parquet sink: ${why}; declare columns with the types option`,
              record: r,
            });
            continue;
          }
          for (let k = 0; k < cols.length; k++) (data[k] as unknown[]).push(values[k]);
          n++;
        }
        if (n === 0) return;
        const before = (writer as ParquetWriter).row_groups.length;
        await (writer as ParquetWriter).write({
          columnData: cols.map((c, k) => ({ name: c.name, data: data[k] as never, offsetIndex: false })),
          rowGroupSize: n,
        });
        await drain();
        const groups = (writer as ParquetWriter).row_groups.slice(before);
        const line = encoder.encode(groups.map((g) => `${toTaggedJson(g)}\n`).join(""));
        await metaFile.write(line);
        metaBytes += line.length;
      };
      return {
        target,
        async write(chunk: Chunk<A>) {
          for (const r of chunk.records) {
            pending.push(r);
            if (pending.length >= o.rowGroupRows) await writeGroup();
          }
        },
        async commit() {
          await writeGroup();
          await file.sync();
          await metaFile.sync();
          return { bytes, metaBytes } satisfies Token;
        },
        async close() {
          await writeGroup();
          if (!writer) startWriter(columns ?? inferColumns([], o.types));
          await (writer as ParquetWriter).finish();
          await drain();
          await file.sync();
          await file.close();
          await metaFile.close();
          await fs.rename(part, target);
          await fs.remove(meta);
        },
        async abort() {
          // Keep the part files: a resumed run continues from their committed lengths.
          await file.close().catch(() => {});
          await metaFile.close().catch(() => {});
        },
      };
    },
  };
}

/** The writer of a run whose output was already complete when it was killed. */
function finished<A>(target: string): SinkWriter<A> {
  return {
    target,
    write(chunk) {
      if (chunk.records.length) throw new SinkError(`parquet: ${target} is complete; no rows can follow`);
    },
    commit: () => ({ bytes: 0, metaBytes: 0 }),
    close: async () => {},
  };
}
