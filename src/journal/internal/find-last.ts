/**
 * @module Finds the last record matching a test without reading the whole
 * journal: segments are scanned newest first and the search stops in the
 * first segment that has a match. For a `kind`
 * lookup, a payload is decoded only if its bytes contain the MessagePack
 * encoding of `"kind"` followed by the wanted value, which is how a top-level
 * `kind` field is always laid out; everything else is skipped by a byte search.
 * Sealed segments with a summary (segment-index.ts) are skipped or jumped into
 * without a scan.
 */
import { encode } from "@msgpack/msgpack";
import { SEGMENT_HEADER_SIZE, segmentFileName } from "./format.ts";
import type { Extent, JournalPosition, RawRecord, Report } from "./reader.ts";
import { segmentFrames } from "./reader.ts";
import { readSummary } from "./segment-index.ts";

export interface Found {
  readonly value: unknown;
  readonly position: JournalPosition;
  readonly next: JournalPosition;
}

/** True when `needle` occurs in `haystack`. */
export function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  const first = needle[0];
  const last = haystack.length - needle.length;
  for (let i = haystack.indexOf(first); i >= 0 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return true;
  }
  return false;
}

/** Byte pattern of a map entry `kind: <kind>` as @msgpack/msgpack writes it. */
export function kindNeedle(kind: string): Uint8Array {
  const key = encode("kind");
  const value = encode(kind);
  const needle = new Uint8Array(key.length + value.length);
  needle.set(key, 0);
  needle.set(value, key.length);
  return needle;
}

export type Decoded = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

export interface LastQuery {
  /** When set, sealed segments' summaries are used to skip or jump (see segment-index.ts). */
  readonly kind?: string;
  /** Cheap test on the raw payload before decoding. */
  readonly prefilter: (payload: Uint8Array) => boolean;
  readonly test: (value: unknown) => boolean;
  /** Decodes a payload, handing failures to `report`. */
  readonly decode: (record: RawRecord, report: Report) => Decoded;
}

/** Raised by the hint path's reporter: any doubt about a summary means "scan instead". */
const DISTRUST = Symbol("distrust summary");

/** The record a summary points at, if it verifies; `undefined` means scan the segment. */
async function viaSummary(
  extent: Extent,
  index: number,
  query: LastQuery,
): Promise<Found | "skip" | undefined> {
  const { fs, dir, segments } = extent;
  const base = segments[index];
  const summary = await readSummary(fs, dir, base);
  const stat = summary && (await fs.stat(fs.join(dir, segmentFileName(base))));
  if (!summary || !stat || summary.size !== stat.size || query.kind === undefined) return undefined;
  const offset = summary.kinds.get(query.kind);
  if (offset === undefined) return "skip";
  const distrust: Report = () => {
    throw DISTRUST;
  };
  try {
    for await (const record of segmentFrames(extent, index, offset, distrust)) {
      const decoded = query.decode(record, distrust);
      if (record.position.offset !== offset || !decoded.ok || !query.test(decoded.value)) return undefined;
      return { value: decoded.value, position: record.position, next: record.next };
    }
  } catch (e) {
    if (e === DISTRUST) return undefined;
    throw e;
  }
  return undefined;
}

/** Newest record matching `query`, scanning segments newest first. */
export async function findLast(extent: Extent, query: LastQuery, report: Report): Promise<Found | undefined> {
  for (let i = extent.segments.length - 1; i >= 0; i--) {
    if (query.kind !== undefined && i < extent.segments.length - 1) {
      const hinted = await viaSummary(extent, i, query);
      if (hinted === "skip") continue;
      if (hinted) return hinted;
    }
    let found: Found | undefined;
    for await (const record of segmentFrames(extent, i, SEGMENT_HEADER_SIZE, report)) {
      if (!query.prefilter(record.payload)) continue;
      const decoded = query.decode(record, report);
      if (decoded.ok && query.test(decoded.value)) {
        found = { value: decoded.value, position: record.position, next: record.next };
      }
    }
    if (found) return found;
  }
  return undefined;
}
