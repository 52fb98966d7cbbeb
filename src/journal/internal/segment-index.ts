/**
 * @module A per-segment summary, `<base>.idx`, written when a segment is
 * sealed: the segment's size and the offset of the last record of each
 * `kind`. With it, `lastOfKind` skips a sealed segment without reading it, so
 * resuming from a checkpoint many segments back costs one small read per
 * segment instead of a full scan.
 *
 * The summary is only a hint: it is used when its recorded size equals the
 * segment's size and the record it points at verifies (CRC and kind);
 * otherwise the segment is scanned. A segment reopened after a crash gets no
 * summary (its earlier records' kinds are unknown), and a summary left by an
 * earlier run of the active segment is removed at open.
 *
 * Layout: "SLUICEJX", u16 format version, u16 flags (0), then one frame
 * (see format.ts) holding MessagePack `{ size, kinds: { [kind]: offset } }`.
 */
import { decode, encode } from "@msgpack/msgpack";
import type { DurableFs } from "../../runtime/durable-fs.ts";
import { crc32c } from "./crc32c.ts";
import {
  checkedFrameLength,
  FORMAT_VERSION,
  FRAME_HEADER_SIZE,
  readU32,
  writeFrameHeader,
} from "./format.ts";

const INDEX_MAGIC = new Uint8Array([0x53, 0x4c, 0x55, 0x49, 0x43, 0x45, 0x4a, 0x58]); // "SLUICEJX"
const PREFIX = 12;

export interface SegmentSummary {
  readonly size: number;
  readonly kinds: ReadonlyMap<string, number>;
}

export function indexFileName(base: number): string {
  return `${String(base).padStart(20, "0")}.idx`;
}

export function encodeSummary(summary: SegmentSummary): Uint8Array {
  const payload = encode({ size: summary.size, kinds: Object.fromEntries(summary.kinds) });
  const out = new Uint8Array(PREFIX + FRAME_HEADER_SIZE + payload.length);
  out.set(INDEX_MAGIC, 0);
  out[8] = FORMAT_VERSION & 0xff;
  out[9] = FORMAT_VERSION >>> 8;
  writeFrameHeader(out, PREFIX, payload);
  out.set(payload, PREFIX + FRAME_HEADER_SIZE);
  return out;
}

/** The summary in `bytes`, or `undefined` when it is missing, damaged or of another version. */
export function decodeSummary(bytes: Uint8Array): SegmentSummary | undefined {
  if (bytes.length < PREFIX + FRAME_HEADER_SIZE) return undefined;
  for (let i = 0; i < INDEX_MAGIC.length; i++) if (bytes[i] !== INDEX_MAGIC[i]) return undefined;
  if ((bytes[8] | (bytes[9] << 8)) !== FORMAT_VERSION) return undefined;
  const length = checkedFrameLength(bytes, PREFIX);
  const start = PREFIX + FRAME_HEADER_SIZE;
  if (length < 0 || start + length !== bytes.length) return undefined;
  if (crc32c(bytes, start, start + length) !== readU32(bytes, PREFIX + 4)) return undefined;
  try {
    const v = decode(bytes.subarray(start)) as { size?: unknown; kinds?: unknown };
    if (typeof v.size !== "number" || typeof v.kinds !== "object" || v.kinds === null) return undefined;
    const kinds = new Map<string, number>();
    for (const [k, o] of Object.entries(v.kinds)) if (typeof o === "number") kinds.set(k, o);
    return { size: v.size, kinds };
  } catch {
    return undefined; // a damaged hint: the caller scans the segment instead
  }
}

/** Reads the summary of segment `base`; any problem means "no summary". */
export async function readSummary(
  fs: DurableFs,
  dir: string,
  base: number,
): Promise<SegmentSummary | undefined> {
  const path = fs.join(dir, indexFileName(base));
  const stat = await fs.stat(path);
  if (!stat || stat.size > 1 << 20) return undefined;
  const file = await fs.open(path, "read");
  try {
    return decodeSummary(await file.read(0, stat.size));
  } finally {
    await file.close();
  }
}

/** Writes the summary of a sealed segment durably (the directory fsync follows with the next segment). */
export async function writeSummary(
  fs: DurableFs,
  dir: string,
  base: number,
  summary: SegmentSummary,
): Promise<void> {
  const path = fs.join(dir, indexFileName(base));
  await fs.remove(path);
  const file = await fs.open(path, "create", 0o600);
  try {
    await file.write(encodeSummary(summary), 0);
    await file.datasync();
  } finally {
    await file.close();
  }
}
