/**
 * @module The on-disk format, in one place so reader, writer and recovery
 * agree byte for byte.
 *
 * A segment is a 24-byte header followed by frames:
 *
 * ```
 * header  0 magic "SLUICEJL" | 8 u16 format version | 10 u16 flags (0)
 *         12 u64 base (global byte offset of this segment) | 20 u32 CRC32C(bytes 0..20)
 * frame   0 u32 payload length (>= 1) | 4 u32 CRC32C(payload) | 8 u32 CRC32C(frame bytes 0..8)
 *         12 MessagePack payload
 * ```
 *
 * All integers are little-endian. The frame carries a CRC of its own length
 * field (the third word) so a damaged length is caught in O(1): without it a
 * flipped length that points past the end of the file looks exactly like a torn
 * tail and recovery would trim good records after it. It also lets the reader
 * resynchronise after a damaged header by scanning byte by byte at constant
 * cost per position. A zero-filled region (what a crash can leave after a size
 * update) never parses as a frame: length 0 is invalid and CRC32C of eight zero
 * bytes is not zero.
 *
 * Segment files are named by their base, zero-padded to 20 digits, so names
 * sort in order and the base of the next segment is this base plus this size:
 * a missing or truncated sealed segment shows up as a gap.
 */
import { crc32c } from "./crc32c.ts";

export const MAGIC = new Uint8Array([0x53, 0x4c, 0x55, 0x49, 0x43, 0x45, 0x4a, 0x4c]); // "SLUICEJL"
/** The format version this code writes and the newest it reads. */
export const FORMAT_VERSION = 1;
export const SEGMENT_HEADER_SIZE = 24;
export const FRAME_HEADER_SIZE = 12;
/** Largest payload a u32 length can describe. */
export const MAX_PAYLOAD = 0xffff_ffff;

const SEGMENT_NAME = /^(\d{20})\.seg$/;

export function segmentFileName(base: number): string {
  return `${String(base).padStart(20, "0")}.seg`;
}

/** The base encoded in a segment file name, or `undefined` for other files. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

export function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

export function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = (value >>> 24) & 0xff;
}

export function encodeSegmentHeader(base: number): Uint8Array {
  const h = new Uint8Array(SEGMENT_HEADER_SIZE);
  h.set(MAGIC, 0);
  h[8] = FORMAT_VERSION & 0xff;
  h[9] = FORMAT_VERSION >>> 8;
  writeU32(h, 12, base % 2 ** 32);
  writeU32(h, 16, Math.floor(base / 2 ** 32));
  writeU32(h, 20, crc32c(h, 0, 20));
  return h;
}

/** What a segment header says, or why it cannot be trusted. */
export type SegmentHeaderCheck =
  | { readonly ok: true; readonly base: number }
  | { readonly ok: false; readonly problem: "magic" | "crc" }
  | { readonly ok: false; readonly problem: "version"; readonly version: number };

/**
 * Magic and version sit at fixed offsets in every format version, so a newer
 * journal is recognised (and refused) before its header layout is interpreted.
 */
export function checkSegmentHeader(h: Uint8Array): SegmentHeaderCheck {
  for (let i = 0; i < MAGIC.length; i++) if (h[i] !== MAGIC[i]) return { ok: false, problem: "magic" };
  const version = h[8] | (h[9] << 8);
  if (version > FORMAT_VERSION) return { ok: false, problem: "version", version };
  if (version === 0 || crc32c(h, 0, 20) !== readU32(h, 20)) return { ok: false, problem: "crc" };
  return { ok: true, base: readU32(h, 12) + readU32(h, 16) * 2 ** 32 };
}

/** Writes a frame header for `payload` into `into` at `at`. */
export function writeFrameHeader(into: Uint8Array, at: number, payload: Uint8Array): void {
  writeU32(into, at, payload.length);
  writeU32(into, at + 4, crc32c(payload));
  writeU32(into, at + 8, crc32c(into, at, at + 8));
}

/** Length from a frame header whose own check passes, or -1. */
export function checkedFrameLength(bytes: Uint8Array, at: number): number {
  const length = readU32(bytes, at);
  if (length === 0) return -1;
  return crc32c(bytes, at, at + 8) === readU32(bytes, at + 8) ? length : -1;
}
