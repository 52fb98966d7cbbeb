/**
 * @module The journal: a durable, append-only log of MessagePack records in
 * segment files, with recovery on open and reads that never return damaged
 * bytes. This is the storage half of the delivery promise (DESIGN.md §3): the
 * engine appends durable events, calls `sync()` at each checkpoint, and on
 * resume asks for the last `Checkpoint` record.
 */
import { Decoder, Encoder } from "@msgpack/msgpack";
import {
  JournalClosedError,
  JournalCorruptionError,
  JournalEncodeError,
  JournalOpenError,
} from "./errors.ts";
import { contains, findLast, kindNeedle, type LastQuery } from "./internal/find-last.ts";
import { MAX_PAYLOAD } from "./internal/format.ts";
import { type JournalOptions, resolveOptions } from "./internal/options.ts";
import {
  type Extent,
  type JournalPosition,
  type RawRecord,
  type Report,
  readFrames,
} from "./internal/reader.ts";
import { recover } from "./internal/recover.ts";
import { SegmentWriter } from "./internal/writer.ts";

export type { JournalOptions } from "./internal/options.ts";
export type { JournalPosition } from "./internal/reader.ts";
export type { FsyncPolicy, JournalClock } from "./internal/writer.ts";

/** A record read back, with where it is and where the one after it starts. */
export interface JournalRecord<T> {
  readonly value: T;
  readonly position: JournalPosition;
  /** Pass to `read(next)` to continue after this record. */
  readonly next: JournalPosition;
}

/** What `openJournal` found and repaired. */
export interface JournalRecovery {
  /** Bytes of torn tail removed from the last segment (0 on a clean open). */
  readonly trimmedBytes: number;
  /** Damage found while opening; the records in it are never returned. */
  readonly corruptions: readonly JournalCorruptionError[];
  readonly segments: number;
}

export interface JournalReadOptions {
  /**
   * Called for each damaged region; reading then goes on where the framing
   * allows. Without it, reading throws the `JournalCorruptionError`.
   */
  readonly onCorruption?: (error: JournalCorruptionError) => void;
}

export interface Journal<T = unknown> {
  readonly dir: string;
  /**
   * The end of the journal now: `read(end)` later returns exactly the records
   * appended after this moment (even if the next one opens a new segment).
   */
  readonly end: JournalPosition;
  readonly recovery: JournalRecovery;
  /** Bytes appended but not yet handed to the file system. */
  readonly backlogBytes: number;
  /**
   * Buffers `value` and returns its position. Synchronous: nothing is durable
   * until `sync()` resolves (or the `always`/`interval` policy has synced).
   * Throws `JournalEncodeError` for a value MessagePack cannot encode (the
   * journal stays usable) and `JournalWriteError` once a write has failed.
   */
  append(value: T): JournalPosition;
  /** Resolves when everything appended so far is written to the file system (not necessarily durable). */
  flush(): Promise<void>;
  /** Resolves when everything appended so far is on stable storage; rejects with `JournalWriteError`. */
  sync(): Promise<void>;
  /** Syncs and closes. Later calls to anything but `close` throw `JournalClosedError`. */
  close(): Promise<void>;
  /** Records from `from` (default: the first) up to `end` as it is when iteration starts. */
  read(from?: JournalPosition, options?: JournalReadOptions): AsyncIterable<JournalRecord<T>>;
  /**
   * The last record whose top-level `kind` field equals `kind`, e.g. `"checkpoint"`.
   * Sealed segments are skipped or jumped into via their summaries; the active segment is scanned.
   */
  lastOfKind(kind: string, options?: JournalReadOptions): Promise<JournalRecord<T> | undefined>;
  /** The last record for which `predicate` holds (decodes every record of the segments it scans). */
  lastMatching(
    predicate: (value: T) => boolean,
    options?: JournalReadOptions,
  ): Promise<JournalRecord<T> | undefined>;
}

const reporter =
  (options: JournalReadOptions | undefined): Report =>
  (error) => {
    if (options?.onCorruption) options.onCorruption(error);
    else throw error;
  };

class FileJournal<T> implements Journal<T> {
  private closed = false;
  private readonly encoder = new Encoder();
  private readonly decoder = new Decoder();

  constructor(
    readonly dir: string,
    private readonly writer: SegmentWriter,
    private readonly segments: number[],
    readonly recovery: JournalRecovery,
    private readonly fs: Extent["fs"],
  ) {}

  get end(): JournalPosition {
    return { segment: this.writer.base, offset: this.writer.size };
  }

  get backlogBytes(): number {
    return this.writer.backlog;
  }

  append(value: T): JournalPosition {
    this.check();
    let payload: Uint8Array;
    try {
      payload = this.encoder.encodeSharedRef(value);
    } catch (e) {
      throw new JournalEncodeError(this.dir, e instanceof Error ? e.message : String(e), e);
    }
    if (payload.length > MAX_PAYLOAD) {
      throw new JournalEncodeError(this.dir, `the record encodes to ${payload.length} bytes`);
    }
    const kind = (value as { kind?: unknown } | null)?.kind;
    const position = this.writer.append(payload, typeof kind === "string" ? kind : undefined);
    if (this.segments[this.segments.length - 1] !== position.segment) this.segments.push(position.segment);
    return position;
  }

  async flush(): Promise<void> {
    this.check();
    await this.writer.barrier(false);
  }

  async sync(): Promise<void> {
    this.check();
    await this.writer.barrier(true);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.writer.failure) await this.writer.barrier(true);
    } finally {
      await this.writer.close();
    }
  }

  async *read(from?: JournalPosition, options?: JournalReadOptions): AsyncGenerator<JournalRecord<T>> {
    const report = reporter(options);
    for await (const raw of readFrames(await this.extent(), from, report)) {
      const decoded = this.decode(raw, report);
      if (decoded.ok) yield { value: decoded.value as T, position: raw.position, next: raw.next };
    }
  }

  lastOfKind(kind: string, options?: JournalReadOptions): Promise<JournalRecord<T> | undefined> {
    const needle = kindNeedle(kind);
    return this.findLast(
      {
        kind,
        prefilter: (payload) => contains(payload, needle),
        test: (value) =>
          typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === kind,
        decode: (raw, report) => this.decode(raw, report),
      },
      options,
    );
  }

  lastMatching(
    predicate: (value: T) => boolean,
    options?: JournalReadOptions,
  ): Promise<JournalRecord<T> | undefined> {
    return this.findLast(
      {
        prefilter: () => true,
        test: (value) => predicate(value as T),
        decode: (raw, report) => this.decode(raw, report),
      },
      options,
    );
  }

  private async findLast(
    query: LastQuery,
    options: JournalReadOptions | undefined,
  ): Promise<JournalRecord<T> | undefined> {
    const found = await findLast(await this.extent(), query, reporter(options));
    return found && { value: found.value as T, position: found.position, next: found.next };
  }

  /** Writes out buffered records and snapshots what a read may cover. */
  private async extent(): Promise<Extent> {
    this.check();
    const end = this.end;
    const segments = this.segments.slice();
    await this.writer.barrier(false);
    return { fs: this.fs, dir: this.dir, segments, end };
  }

  private decode(raw: RawRecord, report: Report): { ok: true; value: unknown } | { ok: false } {
    try {
      return { ok: true, value: this.decoder.decode(raw.payload) };
    } catch (e) {
      const file = this.fs.join(this.dir, `${String(raw.position.segment).padStart(20, "0")}.seg`);
      const reason = `CRC is valid but the payload is not MessagePack (${e instanceof Error ? e.message : String(e)})`;
      report(
        new JournalCorruptionError(
          file,
          raw.position.offset,
          raw.next.offset - raw.position.offset,
          reason,
          true,
        ),
      );
      return { ok: false };
    }
  }

  private check(): void {
    if (this.closed) throw new JournalClosedError(this.dir);
    if (this.writer.failure) throw this.writer.failure;
  }
}

/**
 * Opens (creating if needed, mode 0700) the journal in `dir`, trims a torn
 * tail, and returns it ready to append after the last complete record.
 * Throws `JournalVersionError` for a journal written by a newer format.
 *
 * @example
 * ```ts
 * const journal = await openJournal(".sluice/orders/run-1/journal", { fsync: "checkpoint" });
 * journal.append({ kind: "chunk.done", stage: "score", seq: 41 });
 * journal.append({ kind: "checkpoint", id: 7, offsets: { source: 1024 } });
 * await journal.sync(); // durable from here on
 * const last = await journal.lastOfKind("checkpoint"); // { value, position, next }
 * for await (const { value } of journal.read(last?.next)) console.log(value);
 * await journal.close();
 * ```
 */
export async function openJournal<T = unknown>(
  dir: string,
  options: JournalOptions = {},
): Promise<Journal<T>> {
  const config = resolveOptions(dir, options);
  let r: Awaited<ReturnType<typeof recover>>;
  try {
    r = await recover(config.fs, dir);
  } catch (e) {
    if (e instanceof Error && "_tag" in e) throw e;
    throw new JournalOpenError(dir, e);
  }
  const writer = new SegmentWriter(config, r.file, r.base, r.size);
  const recovery = { trimmedBytes: r.trimmedBytes, corruptions: r.corruptions, segments: r.segments.length };
  return new FileJournal<T>(dir, writer, r.segments, recovery, config.fs);
}
