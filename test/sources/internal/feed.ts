/**
 * @module Test helper: feeds a parser its input in chosen pieces, collects everything the batches
 * say, and checks the invariants every batch must keep (batches tile the input; each record's
 * position and raw text point at that text in the input bytes).
 */
import { expect } from "vitest";
import type {
  ParseBatch,
  RecordPosition,
  RowError,
  RowWarning,
} from "../../../src/sources/internal/batch.ts";

export interface BatchParser<R> {
  push(bytes: Uint8Array): ParseBatch<R>;
  finish(): ParseBatch<R>;
}

export interface Collected<R> {
  records: R[];
  errors: RowError[];
  warnings: RowWarning[];
  positions: RecordPosition[];
  raws: string[];
  endOffset: number;
  endLine: number;
  /** `endOffset` and `endLine` after each batch, for resume tests. */
  ends: { offset: number; line: number; records: number }[];
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Cuts `bytes` at the given sizes (cycled), or at every `size` bytes. */
export function split(bytes: Uint8Array, sizes: number | readonly number[]): Uint8Array[] {
  const list = typeof sizes === "number" ? [sizes] : sizes;
  const out: Uint8Array[] = [];
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const n = Math.max(1, list[k % list.length]);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

/**
 * Pushes `pieces` (each copied into a reused buffer, as a file reader would) and finishes.
 * `input` is the whole input starting at `startOffset`, used to check offsets and raw text.
 */
export function feed<R>(
  parser: BatchParser<R>,
  pieces: readonly Uint8Array[],
  opts: { input?: Uint8Array; startOffset?: number; startLine?: number } = {},
): Collected<R> {
  const out: Collected<R> = {
    records: [],
    errors: [],
    warnings: [],
    positions: [],
    raws: [],
    endOffset: 0,
    endLine: 0,
    ends: [],
  };
  let offset = opts.startOffset ?? 0;
  let line = opts.startLine ?? 1;
  const reused = new Uint8Array(Math.max(1, ...pieces.map((p) => p.length)));
  const take = (b: ParseBatch<R>) => {
    expect(b.startOffset).toBe(offset);
    expect(b.startLine).toBe(line);
    expect(b.bytes).toBe(b.endOffset - b.startOffset);
    expect(b.endOffset).toBeGreaterThanOrEqual(b.startOffset);
    for (let i = 0; i < b.records.length; i++) {
      out.records.push(b.records[i]);
      out.positions.push(b.position(i));
      out.raws.push(b.raw(i));
    }
    out.errors.push(...b.errors);
    out.warnings.push(...b.warnings);
    offset = b.endOffset;
    line = b.endLine;
    out.ends.push({ offset, line, records: out.records.length });
  };
  for (const p of pieces) {
    reused.set(p);
    take(parser.push(reused.subarray(0, p.length)));
    reused.fill(0x21); // the parser must not keep referring to a buffer it was given
  }
  take(parser.finish());
  out.endOffset = offset;
  out.endLine = line;
  if (opts.input) checkPositions(out, opts.input, opts.startOffset ?? 0, opts.startLine ?? 1);
  return out;
}

/** Each position must point at the record's raw text in the input, on the line it claims. */
function checkPositions<R>(c: Collected<R>, input: Uint8Array, base: number, baseLine: number): void {
  const dec = new TextDecoder("utf-8", { ignoreBOM: true });
  const lfs: number[] = [];
  for (let i = input.indexOf(0x0a); i !== -1; i = input.indexOf(0x0a, i + 1)) lfs.push(i);
  const lfsBefore = (at: number) => {
    let lo = 0;
    let hi = lfs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (lfs[mid] < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const check = (pos: RecordPosition, raw: string) => {
    const at = pos.byteOffset - base;
    if (raw.includes("\ufffd")) return; // invalid input bytes: the raw text is a replacement
    const got = dec.decode(input.subarray(at, at + utf8(raw).length));
    const line = baseLine + lfsBefore(at);
    if (got !== raw || pos.line !== line)
      expect({ at: pos.byteOffset, raw: got, line }).toEqual({ at: pos.byteOffset, raw, line: pos.line });
  };
  for (let i = 0; i < c.positions.length; i++) check(c.positions[i], c.raws[i]);
  for (const e of c.errors) check(e, e.raw);
}
