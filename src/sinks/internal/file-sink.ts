/**
 * @module The machinery shared by file sinks (NDJSON, CSV). Output is written
 * to a temporary file beside the target (`<target>.<runId>.part`) through a
 * 1 MiB write buffer; each checkpoint flushes and fsyncs it and commits its
 * length as the token. Resume truncates the part file to the committed length
 * (dropping whatever was written after the checkpoint) and appends from
 * there; completion renames it onto the target. So a reader of the target only
 * ever sees a whole run's output, and a crash never duplicates or loses rows.
 *
 * Append (`SinkContext.append`, used by `sluice redrive`): the part file starts
 * as a copy of the current target (its header counts as written), and the
 * run's records follow; the same commit, resume and rename protocol makes the
 * target "first output + recovered records" atomically, exactly once. The
 * copy costs one read of the target per redrive (not per resume: a resumed
 * run continues its part file).
 */
import type { Chunk } from "../../pipeline/chunk.ts";
import { SinkError } from "../../pipeline/errors.ts";
import { type Sink, type SinkContext, SinkTypeId, type SinkWriter } from "../../pipeline/types.ts";
import { fs, paths } from "../../runtime/fs.ts";

const encoder = new TextEncoder();
const FLUSH_AT = 1 << 20;

export interface FileFormat<A> {
  /** Text to put before the first record (e.g. a CSV header), given the first chunk. */
  header?(first: ReadonlyArray<A>): string;
  /** Serialises one chunk's records (each line newline-terminated). */
  encode(records: ReadonlyArray<A>): string;
}

interface Token {
  readonly bytes: number;
  readonly headerWritten: boolean;
}

export function fileSink<A>(kind: string, path: string, makeFormat: () => FileFormat<A>): Sink<A> {
  if (typeof path !== "string" || path.length === 0) {
    throw new SinkError(`${kind}(): the output path must be a non-empty string`);
  }
  return {
    [SinkTypeId]: true,
    name: `${kind}(${path})`,
    delivery: "exactly-once",
    appends: true,
    async open(ctx: SinkContext): Promise<SinkWriter<A>> {
      const target = paths.resolve(path);
      const part = `${target}.${ctx.runId}.part`;
      const format = makeFormat();
      try {
        await fs.mkdirp(paths.dirname(target));
      } catch (e) {
        throw new SinkError(`${kind}: cannot create the directory for ${target}: ${(e as Error).message}`);
      }
      const resume = ctx.resumeToken as Token | undefined;
      let bytes = 0;
      let headerWritten = false;
      if (resume) {
        let info = await fs.stat(part);
        if (!info && (await fs.stat(target))?.size === resume.bytes) {
          // A crash after the final checkpoint and the rename, before the run
          // was marked ended: the target is this run's whole output. Take it
          // back as the part file; closing renames it again.
          await fs.rename(target, part);
          info = await fs.stat(part);
        }
        if (!info || info.size < resume.bytes) {
          throw new SinkError(
            `${kind}: cannot resume: ${part} has ${info?.size ?? 0} bytes but checkpoint committed ${resume.bytes}`,
            { hint: "The part file was removed or truncated. Run again with --fresh to start over." },
          );
        }
        if (info.size > resume.bytes) await fs.truncate(part, resume.bytes);
        bytes = resume.bytes;
        headerWritten = resume.headerWritten;
      }
      const file = await fs.openWriter(part, { append: Boolean(resume), mode: 0o644 });
      if (!resume && ctx.append) {
        bytes = await copyInto(target, file);
        headerWritten = bytes > 0;
      }
      let pending: string[] = [];
      let pendingLen = 0;
      const flush = async () => {
        if (pending.length === 0) return;
        const data = encoder.encode(pending.join(""));
        pending = [];
        pendingLen = 0;
        await file.write(data);
        bytes += data.length;
      };
      return {
        target,
        write(chunk: Chunk<A>) {
          if (chunk.records.length === 0) return;
          if (!headerWritten && format.header) {
            const h = format.header(chunk.records);
            pending.push(h);
            pendingLen += h.length;
          }
          headerWritten = true;
          const text = format.encode(chunk.records);
          pending.push(text);
          pendingLen += text.length;
          if (pendingLen >= FLUSH_AT) return flush();
        },
        async commit() {
          await flush();
          await file.sync();
          return { bytes, headerWritten } satisfies Token;
        },
        async close() {
          await flush();
          await file.sync();
          await file.close();
          await fs.rename(part, target);
        },
        async abort() {
          // Keep the part file: a resumed run continues from its committed length.
          await flush().catch(() => {});
          await file.close().catch(() => {});
        },
      };
    },
  };
}

/** Copies `from` (if it exists) to the end of `to`; returns the bytes copied. */
async function copyInto(from: string, to: { write(data: Uint8Array): Promise<void> }): Promise<number> {
  if (!(await fs.stat(from))) return 0;
  let n = 0;
  for await (const buf of fs.read(from, { bufferSize: FLUSH_AT })) {
    await to.write(buf);
    n += buf.length;
  }
  return n;
}
