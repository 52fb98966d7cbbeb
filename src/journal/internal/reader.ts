/**
 * @module Reads verified frames segment by segment from a snapshot of the
 * journal's extent. Damage is handed to `report` (which throws by default),
 * never yielded: a damaged region followed by good frames is skipped, a damaged
 * tail ends that segment, a bad header skips the segment, and a gap between
 * segments is reported after the records before it.
 */
import type { DurableFs } from "../../runtime/durable-fs.ts";
import { JournalCorruptionError, JournalPositionError, JournalReadError } from "../errors.ts";
import { checkSegmentHeader, SEGMENT_HEADER_SIZE, segmentFileName } from "./format.ts";
import { headerProblem } from "./recover.ts";
import { FileWindow, type ScanItem, scanFrameBatches } from "./scanner.ts";

/** Where a record starts: the segment's base (its file name) and the byte offset in that file. */
export interface JournalPosition {
  readonly segment: number;
  readonly offset: number;
}

/** The extent of the journal a read covers. */
export interface Extent {
  readonly fs: DurableFs;
  readonly dir: string;
  /** Segment bases in order. */
  readonly segments: readonly number[];
  /** End of the last segment (where the next append would go). */
  readonly end: JournalPosition;
}

export interface RawRecord {
  readonly position: JournalPosition;
  readonly next: JournalPosition;
  readonly payload: Uint8Array;
}

export type Report = (error: JournalCorruptionError) => void;

/** Index of the segment to start from, and the offset in it, for a `from` position. */
export function locate(extent: Extent, from: JournalPosition | undefined): { index: number; offset: number } {
  if (!from) return { index: 0, offset: SEGMENT_HEADER_SIZE };
  const index = extent.segments.indexOf(from.segment);
  const fail = (why: string) => new JournalPositionError(extent.dir, from.segment, from.offset, why);
  if (index < 0) throw fail(`there is no segment ${segmentFileName(from.segment)}`);
  if (!Number.isInteger(from.offset) || from.offset < SEGMENT_HEADER_SIZE) {
    throw fail(`offsets start after the ${SEGMENT_HEADER_SIZE}-byte segment header`);
  }
  if (index === extent.segments.length - 1 && from.offset > extent.end.offset) {
    throw fail(`the journal ends at byte offset ${extent.end.offset} of that segment`);
  }
  return { index, offset: from.offset };
}

/** Verified frames of segment `index` from `offset`. */
export async function* segmentFrames(
  extent: Extent,
  index: number,
  offset: number,
  reportTo: Report,
): AsyncGenerator<RawRecord> {
  for await (const batch of segmentFrameBatches(extent, index, offset, reportTo)) yield* batch;
}

/** `segmentFrames` in batches (the frames of one read window at a time). */
export async function* segmentFrameBatches(
  extent: Extent,
  index: number,
  offset: number,
  reportTo: Report,
): AsyncGenerator<RawRecord[]> {
  const { fs, dir, segments } = extent;
  // Whatever the reporter throws goes to the caller as it is; only
  // file-system failures become JournalReadError.
  let fromReport: { error: unknown } | undefined;
  const report: Report = (error) => {
    try {
      reportTo(error);
    } catch (e) {
      fromReport = { error: e };
      throw e;
    }
  };
  const base = segments[index];
  const path = fs.join(dir, segmentFileName(base));
  const last = index === segments.length - 1;
  let at = 0;
  let file: Awaited<ReturnType<DurableFs["open"]>> | undefined;
  try {
    file = await fs.open(path, "read");
    const size = last ? extent.end.offset : await file.size();
    const header = await file.read(0, SEGMENT_HEADER_SIZE);
    const problem =
      header.length < SEGMENT_HEADER_SIZE
        ? "segment shorter than its header"
        : headerProblem(path, base, checkSegmentHeader(header));
    if (problem) {
      report(new JournalCorruptionError(path, 0, size, problem, false));
      return;
    }
    if (offset > size) {
      throw new JournalPositionError(dir, base, offset, `segment ${path} is only ${size} bytes long`);
    }
    for await (const items of scanFrameBatches(new FileWindow(file, size), offset)) {
      const item = items[items.length - 1];
      at = item.offset;
      if (item.type === "record") {
        const records: RawRecord[] = new Array(items.length);
        for (let k = 0; k < items.length; k++) {
          const r = items[k] as Extract<ScanItem, { type: "record" }>;
          records[k] = {
            position: { segment: base, offset: r.offset },
            next: { segment: base, offset: r.next },
            payload: r.payload,
          };
        }
        yield records;
      } else if (item.type === "corrupt") {
        report(new JournalCorruptionError(path, item.offset, item.length, item.reason, true));
      } else {
        report(new JournalCorruptionError(path, item.offset, size - item.offset, item.reason, false));
      }
    }
    if (!last && base + size !== segments[index + 1]) {
      const reason = `segment ends at journal byte ${base + size} but the next segment starts at ${segments[index + 1]} (bytes missing or added)`;
      report(new JournalCorruptionError(path, size, 0, reason, false));
    }
  } catch (e) {
    if ((fromReport && e === fromReport.error) || (e instanceof Error && "_tag" in e)) throw e;
    throw new JournalReadError(path, at, e);
  } finally {
    await file?.close();
  }
}

/** Verified frames from `from` (or the beginning) to the end of the extent. */
export async function* readFrames(
  extent: Extent,
  from: JournalPosition | undefined,
  report: Report,
): AsyncGenerator<RawRecord> {
  for await (const batch of readFrameBatches(extent, from, report)) yield* batch;
}

/** `readFrames` in batches. */
export async function* readFrameBatches(
  extent: Extent,
  from: JournalPosition | undefined,
  report: Report,
): AsyncGenerator<RawRecord[]> {
  const start = locate(extent, from);
  for (let i = start.index; i < extent.segments.length; i++) {
    yield* segmentFrameBatches(extent, i, i === start.index ? start.offset : SEGMENT_HEADER_SIZE, report);
  }
}
