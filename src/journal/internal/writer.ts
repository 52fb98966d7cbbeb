/**
 * @module The append path: frames go into an in-memory batch, batches become
 * large positional writes on a single sequential queue, and `fdatasync` runs
 * only where the fsync policy says. Positions are assigned at append time, so
 * `append` is synchronous and costs no promise per record.
 *
 * Policies: `checkpoint` writes when the batch fills and fsyncs only on
 * `sync()`; `interval` also syncs on every tick of the injected clock (a tick
 * with nothing new costs nothing); `always` writes and fsyncs as soon as the
 * queue is free, and appends made meanwhile share the next write and fsync
 * (group commit).
 *
 * The previous segment is fsynced before the next one is created, so after a
 * crash only the last segment can have a torn tail. After any write or fsync
 * error the writer is failed for good: the kernel may have dropped the dirty
 * pages, so retrying the fsync could report success for lost data.
 */
import type { Clock } from "../../runtime/clock.ts";
import type { DurableFile, DurableFs } from "../../runtime/durable-fs.ts";
import { JournalWriteError } from "../errors.ts";
import {
  encodeSegmentHeader,
  FRAME_HEADER_SIZE,
  SEGMENT_HEADER_SIZE,
  segmentFileName,
  writeFrameHeader,
} from "./format.ts";
import { indexFileName, type SegmentSummary, writeSummary } from "./segment-index.ts";

export type FsyncPolicy = "always" | "checkpoint" | "interval";

/** The part of the engine's `Clock` the `interval` policy uses (a virtual clock in tests). */
export type JournalClock = Pick<Clock, "every">;

export interface WriterConfig {
  readonly fs: DurableFs;
  readonly dir: string;
  readonly segmentSize: number;
  readonly batchSize: number;
  readonly policy: FsyncPolicy;
  readonly intervalMs: number;
  readonly clock: JournalClock;
}

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

type Op =
  | { readonly t: "write"; readonly bytes: Uint8Array }
  | {
      readonly t: "rotate";
      readonly base: number;
      readonly sealed: { base: number; summary?: SegmentSummary };
    }
  | { readonly t: "sync"; readonly fsync: boolean; readonly waiters: Waiter[] };

export class SegmentWriter {
  /** Base and logical size (including buffered bytes) of the segment appends go to. */
  base: number;
  size: number;
  failure: JournalWriteError | undefined;

  private file: DurableFile;
  private fileOpen = true;
  private written: number;
  private dirty = false;
  private batch: Uint8Array;
  private used = 0;
  private readonly queue: Op[] = [];
  private queuedBytes = 0;
  private draining = false;
  private stopTicking: (() => void) | undefined;
  /** Offset of the last record of each kind in the active segment; undefined when unknown (reopened). */
  private kinds: Map<string, number> | undefined;

  constructor(
    private readonly config: WriterConfig,
    file: DurableFile,
    base: number,
    size: number,
  ) {
    this.file = file;
    this.base = base;
    this.size = size;
    this.written = size;
    this.batch = new Uint8Array(config.batchSize);
    if (size === SEGMENT_HEADER_SIZE) this.kinds = new Map();
    if (config.policy === "interval") {
      // A failure is kept in `this.failure` and raised by the next append or
      // sync, so nothing is lost by not handling the rejection here.
      this.stopTicking = config.clock.every(config.intervalMs, () => {
        this.barrier(true).catch(() => {});
      });
    }
  }

  /** Bytes appended but not yet handed to the file system. */
  get backlog(): number {
    return this.used + this.queuedBytes;
  }

  /**
   * Appends one encoded payload (copied, so it may be a shared encoder buffer)
   * and returns where its frame starts. `kind` feeds the segment summary.
   */
  append(
    payload: Uint8Array,
    kind: string | undefined,
  ): { readonly segment: number; readonly offset: number } {
    const frameSize = FRAME_HEADER_SIZE + payload.length;
    if (this.size > SEGMENT_HEADER_SIZE && this.size + frameSize > this.config.segmentSize) this.rotate();
    const position = { segment: this.base, offset: this.size };
    if (kind !== undefined) this.kinds?.set(kind, this.size);
    if (frameSize > this.batch.length - this.used) {
      this.seal();
      if (frameSize > this.batch.length) {
        const frame = new Uint8Array(frameSize);
        writeFrameHeader(frame, 0, payload);
        frame.set(payload, FRAME_HEADER_SIZE);
        this.enqueue({ t: "write", bytes: frame });
      }
    }
    if (frameSize <= this.batch.length) {
      writeFrameHeader(this.batch, this.used, payload);
      this.batch.set(payload, this.used + FRAME_HEADER_SIZE);
      this.used += frameSize;
    }
    this.size += frameSize;
    const { policy } = this.config;
    if (policy === "always") this.kick();
    else {
      if (this.used >= this.batch.length) this.seal();
      if (this.queue.length > 0) this.kick();
    }
    return position;
  }

  /** Resolves once everything appended so far is written (`fsync`: and durable). */
  barrier(fsync: boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.seal();
    if (!fsync && this.queue.length === 0 && !this.draining) return Promise.resolve();
    if (fsync && this.queue.length === 0 && !this.draining && !this.dirty) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const tail = this.queue[this.queue.length - 1];
      if (tail?.t === "sync" && tail.fsync === fsync) tail.waiters.push({ resolve, reject });
      else this.enqueue({ t: "sync", fsync, waiters: [{ resolve, reject }] });
      this.kick();
    });
  }

  cancelTimer(): void {
    this.stopTicking?.();
    this.stopTicking = undefined;
  }

  async close(): Promise<void> {
    this.cancelTimer();
    if (this.fileOpen) await this.file.close();
    this.fileOpen = false;
  }

  private rotate(): void {
    this.seal();
    const sealed = { base: this.base, summary: this.kinds && { size: this.size, kinds: this.kinds } };
    this.base += this.size;
    this.size = SEGMENT_HEADER_SIZE;
    this.kinds = new Map();
    this.enqueue({ t: "rotate", base: this.base, sealed });
  }

  private seal(): void {
    if (this.used === 0) return;
    this.enqueue({ t: "write", bytes: this.batch.subarray(0, this.used) });
    this.batch = new Uint8Array(this.config.batchSize);
    this.used = 0;
  }

  private enqueue(op: Op): void {
    if (op.t === "write") this.queuedBytes += op.bytes.length;
    this.queue.push(op);
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (this.failure) return;
        let op = this.queue.shift();
        if (!op && this.config.policy === "always" && this.used > 0) {
          this.seal();
          this.enqueue({ t: "sync", fsync: true, waiters: [] });
          op = this.queue.shift();
        }
        if (!op) return;
        await this.apply(op);
      }
    } finally {
      this.draining = false;
    }
  }

  private async apply(op: Op): Promise<void> {
    let what = "write";
    let at = this.written;
    let path = this.file.path;
    try {
      if (op.t === "write") {
        this.queuedBytes -= op.bytes.length;
        await this.file.write(op.bytes, this.written);
        this.written += op.bytes.length;
        this.dirty = true;
      } else if (op.t === "sync") {
        if (op.fsync && this.dirty) {
          what = "fsync";
          await this.file.datasync();
          this.dirty = false;
        }
        for (const w of op.waiters) w.resolve();
      } else {
        what = "fsync before rotation";
        if (this.dirty) await this.file.datasync();
        this.dirty = false;
        if (op.sealed.summary) {
          what = "write segment summary";
          path = this.config.fs.join(this.config.dir, indexFileName(op.sealed.base));
          at = 0;
          await writeSummary(this.config.fs, this.config.dir, op.sealed.base, op.sealed.summary);
        }
        this.fileOpen = false;
        await this.file.close();
        what = "create segment";
        at = 0;
        path = this.config.fs.join(this.config.dir, segmentFileName(op.base));
        this.file = await this.config.fs.open(path, "create", 0o600);
        this.fileOpen = true;
        this.written = 0;
        await this.file.write(encodeSegmentHeader(op.base), 0);
        await this.file.datasync();
        this.written = SEGMENT_HEADER_SIZE;
        what = "directory fsync";
        await this.config.fs.syncDir(this.config.dir);
      }
    } catch (cause) {
      this.fail(new JournalWriteError(what, path, at, cause), op);
    }
  }

  private fail(error: JournalWriteError, current: Op): void {
    this.failure = error;
    this.cancelTimer();
    for (const op of [current, ...this.queue])
      if (op.t === "sync") for (const w of op.waiters) w.reject(error);
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}
