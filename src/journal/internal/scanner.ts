/**
 * @module Walks the frames of one segment file and classifies what it finds:
 * a good record, a damaged region followed by good frames (resync), or a bad
 * tail with no good frame after it. Recovery and the reader share it so a
 * torn tail and mid-file corruption are told apart the same way everywhere;
 * what to do about a bad tail (trim it or report it) is the caller's call.
 *
 * Memory stays bounded: the file is read through a window of `chunk` bytes
 * (or one record, if larger). Windows are fresh buffers, never reused,
 * because MessagePack decodes `bin` values as views of the input.
 */
import type { DurableFile } from "../../runtime/durable-fs.ts";
import { crc32c } from "./crc32c.ts";
import { checkedFrameLength, FRAME_HEADER_SIZE, readU32 } from "./format.ts";

export type ScanItem =
  | { readonly type: "record"; readonly offset: number; readonly next: number; readonly payload: Uint8Array }
  /** Bytes `[offset, offset + length)` are damaged; a good frame starts right after. */
  | { readonly type: "corrupt"; readonly offset: number; readonly length: number; readonly reason: string }
  /** Bytes from `offset` to the end are damaged and no good frame follows (torn tail in the last segment). */
  | { readonly type: "tail"; readonly offset: number; readonly reason: string };

const DEFAULT_CHUNK = 1 << 20;

/** A sliding read window over a file of known size. */
export class FileWindow {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;

  constructor(
    private readonly file: DurableFile,
    readonly size: number,
    private readonly chunk = DEFAULT_CHUNK,
  ) {}

  /** The bytes `[offset, offset + length)` if the window holds them (no promise on the hot path). */
  peek(offset: number, length: number): Uint8Array | undefined {
    const at = offset - this.start;
    return at >= 0 && at + length <= this.buf.length ? this.buf.subarray(at, at + length) : undefined;
  }

  /** The bytes `[offset, offset + length)`, as a view; `length` must fit in the file. */
  async get(offset: number, length: number): Promise<Uint8Array> {
    if (offset < this.start || offset + length > this.start + this.buf.length) {
      const want = Math.min(Math.max(length, this.chunk), this.size - offset);
      this.buf = await this.file.read(offset, want);
      this.start = offset;
      if (this.buf.length < length) {
        throw new Error(`${this.file.path} shrank while being read (wanted ${length} bytes at ${offset})`);
      }
    }
    const at = offset - this.start;
    return this.buf.subarray(at, at + length);
  }

  /** The current window, for synchronous byte scans; refilled to start at `offset` if needed. */
  async around(offset: number): Promise<{ bytes: Uint8Array; start: number }> {
    if (offset < this.start || offset + FRAME_HEADER_SIZE > this.start + this.buf.length) {
      await this.get(offset, Math.min(this.chunk, this.size - offset));
    }
    return { bytes: this.buf, start: this.start };
  }
}

/**
 * First offset `>= from` where a complete frame with good header and payload
 * CRCs starts, or -1. Constant work per byte except at header matches (one in
 * 2^32 by chance), which verify the payload.
 */
export async function findNextFrame(w: FileWindow, from: number): Promise<number> {
  let p = from;
  outer: while (p + FRAME_HEADER_SIZE <= w.size) {
    const { bytes, start } = await w.around(p);
    const last = Math.min(start + bytes.length, w.size) - FRAME_HEADER_SIZE;
    for (; p <= last; p++) {
      const i = p - start;
      const length = readU32(bytes, i);
      if (length === 0 || p + FRAME_HEADER_SIZE + length > w.size) continue;
      if (checkedFrameLength(bytes, i) < 0) continue;
      const stored = readU32(bytes, i + 4);
      const payload = await w.get(p + FRAME_HEADER_SIZE, length);
      if (crc32c(payload) === stored) return p;
      p++;
      continue outer;
    }
    if (p + FRAME_HEADER_SIZE > w.size) break;
  }
  return -1;
}

/** Scans frames of a segment from `from` (a frame boundary) to the end of the window's size. */
export async function* scanFrames(w: FileWindow, from: number): AsyncGenerator<ScanItem> {
  for await (const batch of scanFrameBatches(w, from)) yield* batch;
}

/**
 * `scanFrames` in batches: the good frames that lie in the window already
 * read are checked synchronously and handed over together (one promise per
 * window instead of one per record); damage and window refills take the
 * step-by-step path.
 */
export async function* scanFrameBatches(w: FileWindow, from: number): AsyncGenerator<ScanItem[]> {
  let o = from;
  let batch: ScanItem[] = [];
  while (o < w.size) {
    // Whole good frames inside the current window.
    const header = o + FRAME_HEADER_SIZE <= w.size ? w.peek(o, FRAME_HEADER_SIZE) : undefined;
    if (header) {
      const length = checkedFrameLength(header, 0);
      const next = o + FRAME_HEADER_SIZE + length;
      if (length >= 0 && next <= w.size) {
        const payload = w.peek(o + FRAME_HEADER_SIZE, length);
        if (payload && crc32c(payload) === readU32(header, 4)) {
          batch.push({ type: "record", offset: o, next, payload });
          o = next;
          continue;
        }
      }
    }
    if (batch.length > 0) {
      yield batch;
      batch = [];
    }
    const item = await scanOne(w, o);
    yield [item];
    if (item.type === "tail") return;
    o = item.type === "record" ? item.next : item.offset + item.length;
  }
  if (batch.length > 0) yield batch;
}

/** The item at `o` (< the window's size), reading the file as needed. */
async function scanOne(w: FileWindow, o: number): Promise<ScanItem> {
  let reason: string;
  let resyncFrom: number;
  if (o + FRAME_HEADER_SIZE > w.size) {
    return { type: "tail", offset: o, reason: `incomplete frame header (${w.size - o} of 12 bytes)` };
  }
  const header = w.peek(o, FRAME_HEADER_SIZE) ?? (await w.get(o, FRAME_HEADER_SIZE));
  const length = checkedFrameLength(header, 0);
  if (length < 0) {
    reason = "frame header check failed (damaged length or CRC field)";
    resyncFrom = o + 1;
  } else if (o + FRAME_HEADER_SIZE + length > w.size) {
    return {
      type: "tail",
      offset: o,
      reason: `record declares ${length} bytes but the segment ends ${w.size - o - FRAME_HEADER_SIZE} bytes after its header`,
    };
  } else {
    const stored = readU32(header, 4);
    const payload = w.peek(o + FRAME_HEADER_SIZE, length) ?? (await w.get(o + FRAME_HEADER_SIZE, length));
    const next = o + FRAME_HEADER_SIZE + length;
    const actual = crc32c(payload);
    if (actual === stored) return { type: "record", offset: o, next, payload };
    reason = `payload CRC32C mismatch (stored 0x${stored.toString(16).padStart(8, "0")}, computed 0x${actual.toString(16).padStart(8, "0")})`;
    resyncFrom = next;
  }
  const p = await findNextFrame(w, resyncFrom);
  if (p < 0) return { type: "tail", offset: o, reason };
  return { type: "corrupt", offset: o, length: p - o, reason };
}
