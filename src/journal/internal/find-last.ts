/**
 * @module Finds the last record matching a test without reading the whole
 * journal: segments are scanned newest first and the search stops in the
 * first segment that has a match, so resume costs one segment (64 MiB by
 * default) when checkpoints are more frequent than segments. For a `kind`
 * lookup, a payload is decoded only if its bytes contain the MessagePack
 * encoding of `"kind"` followed by the wanted value, which is how a top-level
 * `kind` field is always laid out; everything else is skipped by a byte search.
 */
import { encode } from "@msgpack/msgpack";
import { SEGMENT_HEADER_SIZE } from "./format.ts";
import type { Extent, JournalPosition, RawRecord, Report } from "./reader.ts";
import { segmentFrames } from "./reader.ts";

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

/**
 * Newest record for which `prefilter(payload)` and then `test(decoded)` hold.
 * `decode` errors go to `onDecodeError` (the caller reports them).
 */
export async function findLast(
  extent: Extent,
  prefilter: (payload: Uint8Array) => boolean,
  decode: (record: RawRecord) => { ok: true; value: unknown } | { ok: false },
  test: (value: unknown) => boolean,
  report: Report,
): Promise<Found | undefined> {
  for (let i = extent.segments.length - 1; i >= 0; i--) {
    let found: Found | undefined;
    for await (const record of segmentFrames(extent, i, SEGMENT_HEADER_SIZE, report)) {
      if (!prefilter(record.payload)) continue;
      const decoded = decode(record);
      if (decoded.ok && test(decoded.value)) {
        found = { value: decoded.value, position: record.position, next: record.next };
      }
    }
    if (found) return found;
  }
  return undefined;
}
