/**
 * @module Opening a journal directory: refuse newer formats before touching
 * anything, check every segment header and the byte continuity between
 * segments, then scan the last segment and trim its torn tail (a partial
 * frame, or damaged bytes with no good frame after them) so appends continue
 * after the last complete record. Damage with good frames after it is
 * reported, never trimmed. Only the last segment can be torn, because the
 * writer fsyncs a segment before it creates the next.
 */
import type { DurableFile, DurableFs } from "../../runtime/durable-fs.ts";
import { JournalCorruptionError, JournalOptionsError, JournalVersionError } from "../errors.ts";
import {
  checkSegmentHeader,
  encodeSegmentHeader,
  FORMAT_VERSION,
  parseSegmentFileName,
  SEGMENT_HEADER_SIZE,
  type SegmentHeaderCheck,
  segmentFileName,
} from "./format.ts";
import { FileWindow, findNextFrame, scanFrames } from "./scanner.ts";
import { indexFileName } from "./segment-index.ts";

export interface Recovered {
  /** Bases of all segments in order; the last is the active one. */
  readonly segments: number[];
  readonly file: DurableFile;
  readonly base: number;
  readonly size: number;
  readonly trimmedBytes: number;
  readonly corruptions: JournalCorruptionError[];
}

interface SegmentHead {
  readonly base: number;
  readonly path: string;
  readonly size: number;
  readonly header: Uint8Array;
}

/** Why a header cannot be used, or `undefined` when it is good. */
export function headerProblem(path: string, base: number, check: SegmentHeaderCheck): string | undefined {
  if (check.ok) return check.base === base ? undefined : `header names base ${check.base}, file name ${base}`;
  if (check.problem === "version") throw new JournalVersionError(path, check.version, FORMAT_VERSION);
  return check.problem === "magic"
    ? "not a sluice journal segment (bad magic bytes)"
    : "segment header CRC32C mismatch or zero version";
}

async function createSegment(fs: DurableFs, dir: string, base: number): Promise<DurableFile> {
  const file = await fs.open(fs.join(dir, segmentFileName(base)), "create", 0o600);
  await file.write(encodeSegmentHeader(base), 0);
  await file.datasync();
  await fs.syncDir(dir);
  return file;
}

async function readHeads(fs: DurableFs, dir: string, bases: number[]): Promise<SegmentHead[]> {
  const heads: SegmentHead[] = [];
  for (const base of bases) {
    const path = fs.join(dir, segmentFileName(base));
    const file = await fs.open(path, "read");
    try {
      heads.push({ base, path, size: await file.size(), header: await file.read(0, SEGMENT_HEADER_SIZE) });
    } finally {
      await file.close();
    }
  }
  return heads;
}

export async function recover(fs: DurableFs, dir: string): Promise<Recovered> {
  const existing = await fs.stat(dir);
  if (existing && !existing.isDirectory) {
    throw new JournalOptionsError(
      "dir",
      `${dir} exists and is not a directory; pass a directory for the journal`,
    );
  }
  await fs.mkdir(dir, 0o700);
  if (!existing) await fs.syncDir(fs.join(dir, ".."));

  const bases = (await fs.readdir(dir))
    .map(parseSegmentFileName)
    .filter((b): b is number => b !== undefined)
    .sort((a, b) => a - b);
  if (bases.length === 0) {
    const file = await createSegment(fs, dir, 0);
    return { segments: [0], file, base: 0, size: SEGMENT_HEADER_SIZE, trimmedBytes: 0, corruptions: [] };
  }

  const heads = await readHeads(fs, dir, bases);
  // Refuse a newer format before anything is reported or trimmed.
  for (const h of heads) {
    const check = checkSegmentHeader(h.header);
    if (!check.ok && check.problem === "version") {
      throw new JournalVersionError(h.path, check.version, FORMAT_VERSION);
    }
  }

  const corruptions: JournalCorruptionError[] = [];
  for (let i = 0; i < heads.length - 1; i++) {
    const h = heads[i];
    const problem =
      h.size < SEGMENT_HEADER_SIZE
        ? "segment shorter than its header"
        : headerProblem(h.path, h.base, checkSegmentHeader(h.header));
    if (problem) corruptions.push(new JournalCorruptionError(h.path, 0, h.size, problem, false));
    const next = heads[i + 1].base;
    if (h.base + h.size !== next) {
      const reason = `segment ends at journal byte ${h.base + h.size} but the next segment starts at ${next} (bytes missing or added)`;
      corruptions.push(new JournalCorruptionError(h.path, h.size, 0, reason, false));
    }
  }

  const last = heads[heads.length - 1];
  const segments = heads.map((h) => h.base);
  // A summary of the active segment would go stale with the next append.
  await fs.remove(fs.join(dir, indexFileName(last.base)));
  const file = await fs.open(last.path, "readwrite");
  const window = new FileWindow(file, last.size);
  const problem =
    last.size < SEGMENT_HEADER_SIZE
      ? "segment shorter than its header"
      : headerProblem(last.path, last.base, checkSegmentHeader(last.header));
  if (problem && (await findNextFrame(window, SEGMENT_HEADER_SIZE)) < 0) {
    // The header is written and fsynced before any frame, so a bad header
    // with no frame after it is a crash while creating the segment.
    await file.truncate(0);
    await file.write(encodeSegmentHeader(last.base), 0);
    await file.datasync();
    return {
      segments,
      file,
      base: last.base,
      size: SEGMENT_HEADER_SIZE,
      trimmedBytes: last.size,
      corruptions,
    };
  }
  if (problem) {
    // Frames follow a damaged header: keep the file for inspection (reads
    // report it) and continue in a fresh segment.
    corruptions.push(new JournalCorruptionError(last.path, 0, last.size, problem, false));
    await file.close();
    const base = last.base + last.size;
    const fresh = await createSegment(fs, dir, base);
    segments.push(base);
    return { segments, file: fresh, base, size: SEGMENT_HEADER_SIZE, trimmedBytes: 0, corruptions };
  }

  let end = last.size;
  for await (const item of scanFrames(window, SEGMENT_HEADER_SIZE)) {
    if (item.type === "corrupt") {
      corruptions.push(new JournalCorruptionError(last.path, item.offset, item.length, item.reason, true));
    } else if (item.type === "tail") {
      end = item.offset;
    }
  }
  if (end < last.size) {
    await file.truncate(end);
    await file.datasync();
  }
  return { segments, file, base: last.base, size: end, trimmedBytes: last.size - end, corruptions };
}
