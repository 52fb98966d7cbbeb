/**
 * @module Reading a journal without opening it for appends. `openJournal`
 * recovers (trims a torn tail, rewrites a half-created segment), which must
 * never happen to a journal another process is writing or that a crashed run
 * left for its resume. This reader changes nothing: it lists the segments,
 * refuses a newer format, and treats damage at the end of the last segment
 * as what it almost always is — a write in progress, or the torn tail of a
 * crash that the next `openJournal` trims — by stopping there. Damage
 * anywhere else is reported as the journal layer does.
 *
 * `sluice runs/events/replay` and the metrics store (re-ingesting a run's
 * tail after kill -9) read through it.
 */
import { Decoder } from "@msgpack/msgpack";
import { type DurableFs, nodeDurableFs } from "../runtime/durable-fs.ts";
import { JournalCorruptionError, JournalReadError, JournalVersionError } from "./errors.ts";
import { FastDecoder } from "./internal/decode.ts";
import { contains, findLast, kindNeedle } from "./internal/find-last.ts";
import {
  checkSegmentHeader,
  FORMAT_VERSION,
  parseSegmentFileName,
  SEGMENT_HEADER_SIZE,
  segmentFileName,
} from "./internal/format.ts";
import { type Extent, type RawRecord, type Report, readFrameBatches } from "./internal/reader.ts";
import type { JournalPosition, JournalReadOptions, JournalRecord } from "./journal.ts";

/** A read-only view of a journal directory as it was when the reader was made. */
export interface JournalReader<T = unknown> {
  readonly dir: string;
  /** Where the readable records end (a later reader sees records appended since). */
  readonly end: JournalPosition;
  /** Records from `from` (default: the first) to `end`. */
  read(from?: JournalPosition, options?: JournalReadOptions): AsyncIterable<JournalRecord<T>>;
  /** `read` in batches (the records of one read window at a time): one promise per batch, not per record. */
  readBatches(from?: JournalPosition, options?: JournalReadOptions): AsyncIterable<Array<JournalRecord<T>>>;
  /** The last record whose top-level `kind` is `kind`. */
  lastOfKind(kind: string, options?: JournalReadOptions): Promise<JournalRecord<T> | undefined>;
}

/**
 * A reader over the journal in `dir`, or `undefined` when there is none.
 * Throws `JournalVersionError` for a journal written by a newer sluice.
 *
 * @example
 * ```ts
 * const reader = await readJournal(".sluice/orders/20261122T171500123Z-1a2b3c/journal");
 * for await (const { value } of reader?.read() ?? []) console.log(value);
 * ```
 */
export async function readJournal<T = unknown>(
  dir: string,
  options: { readonly fs?: DurableFs } = {},
): Promise<JournalReader<T> | undefined> {
  const fs = options.fs ?? nodeDurableFs;
  const bases = (await fs.readdir(dir))
    .map(parseSegmentFileName)
    .filter((b): b is number => b !== undefined)
    .sort((a, b) => a - b);
  if (bases.length === 0) return undefined;
  let lastSize = 0;
  for (let i = 0; i < bases.length; i++) {
    const path = fs.join(dir, segmentFileName(bases[i]));
    let file: Awaited<ReturnType<DurableFs["open"]>> | undefined;
    try {
      file = await fs.open(path, "read");
      const header = await file.read(0, SEGMENT_HEADER_SIZE);
      const check = checkSegmentHeader(header);
      if (!check.ok && check.problem === "version") {
        throw new JournalVersionError(path, check.version, FORMAT_VERSION);
      }
      if (i === bases.length - 1) lastSize = await file.size();
    } catch (e) {
      if (e instanceof Error && "_tag" in e) throw e;
      throw new JournalReadError(path, 0, e);
    } finally {
      await file?.close();
    }
  }
  const lastBase = bases[bases.length - 1];
  // A last segment shorter than its header is a crash while it was created: nothing in it.
  const segments = lastSize < SEGMENT_HEADER_SIZE && bases.length > 1 ? bases.slice(0, -1) : bases;
  const lastPath = fs.join(dir, segmentFileName(segments[segments.length - 1]));
  let end: JournalPosition;
  if (segments.length < bases.length) {
    const prev = segments[segments.length - 1];
    end = { segment: prev, offset: lastBase - prev };
  } else end = { segment: lastBase, offset: Math.max(lastSize, SEGMENT_HEADER_SIZE) };
  const extent: Extent = { fs, dir, segments, end };
  const decoder = new Decoder();
  const fast = new FastDecoder();

  const reporter =
    (o: JournalReadOptions | undefined): Report =>
    (error) => {
      // The end of the last segment: a write in progress or a torn tail.
      if (!error.resumed && error.file === lastPath) return;
      if (o?.onCorruption) o.onCorruption(error);
      else throw error;
    };

  /** The payload's value, or the error (CRC valid, but not MessagePack) to report. */
  const tryDecode = (
    raw: RawRecord,
  ): { ok: true; value: unknown } | { ok: false; error: JournalCorruptionError } => {
    try {
      return { ok: true, value: fast.decode(raw.payload) };
    } catch {
      // What the fast decoder leaves to the library (see internal/decode.ts).
    }
    try {
      return { ok: true, value: decoder.decode(raw.payload) };
    } catch (e) {
      const file = fs.join(dir, segmentFileName(raw.position.segment));
      const error = new JournalCorruptionError(
        file,
        raw.position.offset,
        raw.next.offset - raw.position.offset,
        `CRC is valid but the payload is not MessagePack (${e instanceof Error ? e.message : String(e)})`,
        true,
      );
      return { ok: false, error };
    }
  };
  const decode = (raw: RawRecord, report: Report): { ok: true; value: unknown } | { ok: false } => {
    const d = tryDecode(raw);
    if (!d.ok) report(d.error);
    return d;
  };

  async function* readBatches(
    from: JournalPosition | undefined,
    o: JournalReadOptions | undefined,
  ): AsyncGenerator<Array<JournalRecord<T>>> {
    const report = reporter(o);
    for await (const raws of readFrameBatches(extent, from, report)) {
      let out: Array<JournalRecord<T>> = [];
      for (const raw of raws) {
        const d = tryDecode(raw);
        if (d.ok) out.push({ value: d.value as T, position: raw.position, next: raw.next });
        else {
          // The records before it first, as a record-by-record read hands them over.
          if (out.length > 0) yield out;
          out = [];
          report(d.error);
        }
      }
      if (out.length > 0) yield out;
    }
  }

  return {
    dir,
    end,
    async *read(from, o) {
      // Decoded one by one, so that a reader that stops early (the first record) decodes no more.
      const report = reporter(o);
      for await (const raws of readFrameBatches(extent, from, report)) {
        for (const raw of raws) {
          const d = decode(raw, report);
          if (d.ok) yield { value: d.value as T, position: raw.position, next: raw.next };
        }
      }
    },
    readBatches,
    async lastOfKind(kind, o) {
      const needle = kindNeedle(kind);
      const found = await findLast(
        extent,
        {
          kind,
          prefilter: (payload) => contains(payload, needle),
          test: (v) => typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === kind,
          decode,
        },
        reporter(o),
      );
      return found && { value: found.value as T, position: found.position, next: found.next };
    },
  };
}
