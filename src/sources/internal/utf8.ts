/**
 * @module The byte side shared by the CSV and NDJSON parsers: line-aligned UTF-8 decoding with exact
 * byte offsets, and `LineParser`, which turns read buffers into decoded pieces for a subclass's hot
 * loop and carries what is incomplete.
 *
 * Why it is built this way: decoding is cheap only when it happens once per large run of input, so
 * input is cut after an LF (0x0A never occurs inside a multibyte sequence, so a cut never splits a
 * character), complete lines are decoded with one `TextDecoder` call per piece and the tail is
 * carried as bytes. Pieces are at most 32 KiB (strings stay in V8's young generation) and runs of
 * ASCII lines are decoded apart from lines with other bytes (V8's decoder is several times slower
 * past the first non-ASCII byte). Byte offsets must be exact — they are resume positions and
 * dead-letter addresses — but are rarely asked for, so they are derived lazily from the decoded
 * text: the identity for ASCII, the UTF-8 length for other valid text, and LF counting over a
 * private copy of the bytes for invalid input (U+FFFD replacements break the arithmetic). Only line
 * starts are ever asked for, which is what makes the LF method exact.
 */

import { RAW_MAX_BYTES } from "../../pipeline/internal/raw.ts";
import {
  decodeLatin1,
  type InvalidLines,
  invalidLines,
  invalidUtf8Reason,
  TEXT_ENCODINGS,
  type TextEncodingName,
} from "./encoding.ts";

const LF = 0x0a;
const fatalDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenientDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** Number of bytes the UTF-8 encoding of `s.slice(start, end)` takes. */
export function utf8Length(s: string, start = 0, end: number = s.length): number {
  let n = end - start;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < end && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a surrogate pair: two UTF-16 units, four bytes
      i++;
    } else n += 2;
  }
  return n;
}

/** The longest prefix of `s` whose UTF-8 encoding fits in `maxBytes` (never splits a pair). */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes) return s;
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c < 0xdc00 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    const w = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + w > maxBytes) return s.slice(0, i);
    bytes += w;
    if (pair) i++;
  }
  return s;
}

/** Decodes a prefix of raw bytes for an error message, dropping a trailing partial character. */
export function decodePrefix(bytes: Uint8Array, maxBytes: number, encoding?: TextEncodingName): string {
  if (encoding === "latin1") return decodeLatin1(bytes.subarray(0, maxBytes));
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes.subarray(0, maxBytes), { stream: true });
}

/** Joins byte chunks into one array (no copy for a single chunk). */
export function concatBytes(parts: readonly Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Counts LF bytes in `bytes[from, to)`. */
export function countLfBytes(bytes: Uint8Array, from = 0, to: number = bytes.length): number {
  let n = 0;
  for (let i = bytes.indexOf(LF, from); i !== -1 && i < to; i = bytes.indexOf(LF, i + 1)) n++;
  return n;
}

/**
 * A decoded run of complete input, with lazy, exact mapping from character index to file byte
 * offset and line number. Indices asked for must be 0 or just after an LF (record starts are).
 */
export class DecodedText {
  /** Whether every character is one byte (ASCII, or latin1): then char index = byte index. */
  readonly ascii: boolean;
  /** A private copy of the bytes, kept only when the input was not valid UTF-8. */
  private readonly invalidBytes: Uint8Array | undefined;
  /**
   * Lines holding invalid UTF-8 (strict `utf-8` only): indices of lines (LFs before them in the
   * text), ascending. Undefined when there are none, which is the fast path's only cost.
   */
  readonly badLines: number[] | undefined;
  private readonly bad: InvalidLines | undefined;
  private cursorChar = 0;
  private cursorByte = 0;
  private lineChar = 0;
  private lineCount = 0;

  private constructor(
    readonly text: string,
    /** File offset of `text[0]`. */
    readonly byteStart: number,
    /** Number of input bytes `text` was decoded from. */
    readonly byteLength: number,
    /** Line number of `text[0]` (1-based). */
    readonly lineStart: number,
    invalidBytes: Uint8Array | undefined,
    bad?: InvalidLines,
  ) {
    this.ascii = invalidBytes === undefined && text.length === byteLength;
    this.invalidBytes = invalidBytes;
    this.bad = bad;
    this.badLines = bad?.lines;
  }

  /**
   * Decodes `bytes` (which the caller may reuse afterwards: nothing refers to them unless the input
   * is invalid UTF-8, in which case a copy is kept). `owned` says the array is already private.
   */
  static decode(
    bytes: Uint8Array,
    byteStart: number,
    lineStart: number,
    owned: boolean,
    encoding: TextEncodingName = "utf-8",
  ): DecodedText {
    if (encoding === "latin1")
      return new DecodedText(decodeLatin1(bytes), byteStart, bytes.length, lineStart, undefined);
    try {
      return new DecodedText(fatalDecoder.decode(bytes), byteStart, bytes.length, lineStart, undefined);
    } catch {
      const copy = owned ? bytes : bytes.slice();
      const bad = encoding === "utf-8" ? invalidLines(copy) : undefined;
      return new DecodedText(lenientDecoder.decode(copy), byteStart, copy.length, lineStart, copy, bad);
    }
  }

  /**
   * Why the record covering lines `[from, to)` (indices as in `badLines`) is not read: the first
   * invalid byte on those lines, with its file offset and line number.
   */
  invalidReason(from: number, to: number): string | undefined {
    const bad = this.bad;
    const bytes = this.invalidBytes;
    if (bad === undefined || bytes === undefined) return undefined;
    for (let k = 0; k < bad.lines.length; k++) {
      const l = bad.lines[k];
      if (l >= from && l < to)
        return invalidUtf8Reason(bytes, bad.at[k], this.byteStart + bad.at[k], this.lineStart + l);
    }
    return undefined;
  }

  /** Bytes of input from `text[0]` to `text[charIndex]`. Fast when queries move forward. */
  bytesBefore(charIndex: number): number {
    if (this.ascii) return charIndex;
    if (charIndex === this.text.length) return this.byteLength;
    if (charIndex < this.cursorChar) {
      this.cursorChar = 0;
      this.cursorByte = 0;
    }
    const bytes = this.invalidBytes;
    if (bytes === undefined) {
      this.cursorByte += utf8Length(this.text, this.cursorChar, charIndex);
    } else {
      // Replacement characters make lengths unreliable, but each LF in the text is an LF byte.
      let at = this.cursorByte;
      let c = this.text.indexOf("\n", this.cursorChar);
      while (c !== -1 && c < charIndex) {
        at = bytes.indexOf(LF, at) + 1;
        c = this.text.indexOf("\n", c + 1);
      }
      this.cursorByte = at;
    }
    this.cursorChar = charIndex;
    return this.cursorByte;
  }

  /**
   * The text from `start` (a line start) to `end`, cut to its first `maxBytes` input bytes the way
   * `decodePrefix` cuts raw bytes (so an oversized record reads the same whichever path found it).
   */
  prefix(start: number, end: number, maxBytes: number): string {
    if (this.ascii) return this.text.slice(start, Math.min(end, start + maxBytes));
    if (this.invalidBytes === undefined) return truncateUtf8(this.text.slice(start, end), maxBytes);
    const from = this.bytesBefore(start);
    return decodePrefix(this.invalidBytes.subarray(from, from + maxBytes), maxBytes);
  }

  /** File byte offset of `text[charIndex]`. */
  byteOffset(charIndex: number): number {
    return this.byteStart + this.bytesBefore(charIndex);
  }

  /** 1-based line number of `text[charIndex]`. Fast when queries move forward. */
  lineAt(charIndex: number): number {
    if (charIndex < this.lineChar) {
      this.lineChar = 0;
      this.lineCount = 0;
    }
    const t = this.text;
    let n = this.lineCount;
    for (let c = t.indexOf("\n", this.lineChar); c !== -1 && c < charIndex; c = t.indexOf("\n", c + 1)) n++;
    this.lineChar = charIndex;
    this.lineCount = n;
    return this.lineStart + n;
  }
}

/** Where a record starts in the input. */
export interface RecordPosition {
  /** 1-based physical line number. */
  readonly line: number;
  /** Byte offset in the file (a UTF-8 byte order mark counts: the first record after one is at 3). */
  readonly byteOffset: number;
}

/** A record the parser could not read; the parse goes on after it. */
export interface RowError extends RecordPosition {
  /** The record's text without its line terminator (only its start when `rawBytes` is set). */
  readonly raw: string;
  /** What is wrong and what to do about it. */
  readonly reason: string;
  /** Input lines the record covers (more than 1 when quoted fields hold line breaks). */
  readonly lines: number;
  /** The whole record's size in bytes, set when `raw` holds only its first `MAX_RAW_BYTES`. */
  readonly rawBytes?: number;
}

/** A record (read or not) so long that it probably is a quoting mistake. */
export interface RowWarning extends RecordPosition {
  /** Input lines the record covers. */
  readonly lines: number;
  /** Its size in bytes. */
  readonly bytes: number;
  readonly message: string;
}

/** What one `push` or `finish` call produced. Batches tile the input: each starts where the last ended. */
export interface ParseBatch<R> {
  /** The records read, in input order. */
  readonly records: R[];
  /** The records that could not be read, in input order. */
  readonly errors: RowError[];
  /** Records that span more lines or bytes than the parser's warning limits, in input order. */
  readonly warnings: RowWarning[];
  /** File offset where this batch's input starts (the previous batch's `endOffset`). */
  readonly startOffset: number;
  /** File offset just after the last record consumed: a parser started here continues exactly. */
  readonly endOffset: number;
  /** Line number at `startOffset`. */
  readonly startLine: number;
  /** Line number at `endOffset` (give it as `startLine` when resuming there). */
  readonly endLine: number;
  /** `endOffset - startOffset`. */
  readonly bytes: number;
  /** Line and byte offset where record `i` starts (computed on demand). */
  position(i: number): RecordPosition;
  /** The text of record `i` without its line terminator (computed on demand). */
  raw(i: number): string;
}

/** The batch implementation shared by the parsers; `recordEnd` finds where a record's text ends. */
export class TextBatch<R> implements ParseBatch<R> {
  readonly records: R[] = [];
  readonly errors: RowError[] = [];
  readonly warnings: RowWarning[] = [];
  /** Character index, in the text it came from, where each record starts. */
  readonly starts: number[] = [];
  endOffset: number;
  endLine: number;
  /** The decoded pieces the records came from, and the index of the first record of each. */
  private readonly texts: DecodedText[] = [];
  private readonly firstRecord: number[] = [];

  constructor(
    readonly startOffset: number,
    readonly startLine: number,
    private readonly recordEnd: (text: string, start: number) => number,
  ) {
    this.endOffset = startOffset;
    this.endLine = startLine;
  }

  get bytes(): number {
    return this.endOffset - this.startOffset;
  }

  /** Records pushed from now on come from `text`. */
  addText(text: DecodedText): void {
    this.texts.push(text);
    this.firstRecord.push(this.records.length);
  }

  private textOf(i: number): DecodedText {
    if (!(i >= 0 && i < this.records.length)) {
      throw new RangeError(`no record ${i} in a batch of ${this.records.length}`);
    }
    // The last text whose first record is at or before `i`.
    let lo = 0;
    let hi = this.texts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.firstRecord[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return this.texts[lo];
  }

  position(i: number): RecordPosition {
    const t = this.textOf(i);
    const start = this.starts[i];
    return { line: t.lineAt(start), byteOffset: t.byteOffset(start) };
  }

  raw(i: number): string {
    const text = this.textOf(i).text;
    const start = this.starts[i];
    let end = this.recordEnd(text, start);
    if (end > start && text.charCodeAt(end - 1) === 0x0d) end--;
    return text.slice(start, end);
  }
}

/**
 * Finds bytes >= 0x80 four at a time. It keeps a `Uint32Array` view of the last buffer it scanned
 * (creating a view per call was ~5% of the parse on Bun), so each parser owns one and drops it at
 * the end of input.
 */
export class HighByteScanner {
  private buffer: ArrayBufferLike | undefined;
  private words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

  /** Index of the first byte >= 0x80 in `bytes[from, to)`, or -1. */
  next(bytes: Uint8Array, from: number, to: number): number {
    let i = from;
    const base = bytes.byteOffset;
    while (i < to && ((base + i) & 3) !== 0) {
      if (bytes[i] >= 0x80) return i;
      i++;
    }
    const end = (base + to) >> 2;
    let k = (base + i) >> 2;
    if (k < end) {
      if (bytes.buffer !== this.buffer || this.words.length < end) {
        this.buffer = bytes.buffer;
        this.words = new Uint32Array(bytes.buffer, 0, bytes.buffer.byteLength >> 2);
      }
      const w = this.words;
      while (k < end && (w[k] & 0x80808080) === 0) k++;
      i = k * 4 - base;
    }
    for (; i < to; i++) if (bytes[i] >= 0x80) return i;
    return -1;
  }

  release(): void {
    this.buffer = undefined;
    this.words = new Uint32Array(0);
  }
}

/** Non-ASCII lines closer than this are decoded together rather than as separate pieces. */
const MERGE_GAP = 512;

/**
 * Where to end the next piece of `bytes[from, to)` (which ends in an LF): just after an LF, at most
 * about `size` bytes on. Small pieces keep each decoded string in the young generation (V8 puts
 * strings over 128 KiB in large-object space, freed only by full collections). Runs of ASCII lines
 * are cut apart from lines holding other bytes, because V8's UTF-8 decoder is several times slower
 * from the first non-ASCII byte to the end of its input, and the whole string becomes two-byte.
 */
export function pieceEnd(
  bytes: Uint8Array,
  from: number,
  to: number,
  size: number,
  scanner: HighByteScanner = new HighByteScanner(),
): number {
  const limit = Math.min(to, from + size);
  const h = scanner.next(bytes, from, limit);
  if (h === -1) {
    if (limit === to) return to;
    const e = bytes.lastIndexOf(LF, limit - 1);
    return e >= from ? e + 1 : bytes.indexOf(LF, limit) + 1;
  }
  const lineStart = bytes.lastIndexOf(LF, h) + 1;
  if (lineStart > from) return lineStart; // ASCII lines first
  let e = bytes.indexOf(LF, h) + 1; // the line holding `h`, and the next ones while non-ASCII bytes are close
  while (e < to && e - from < size) {
    const next = scanner.next(bytes, e, Math.min(to, e + MERGE_GAP));
    if (next === -1) break;
    e = bytes.indexOf(LF, next) + 1;
  }
  return e;
}

const MODE_NORMAL = 0;
/** The carry holds the start of a record that goes on past the decoded text (CSV quoted newlines). */
const MODE_SPANNING = 1;
/** A record longer than `maxRecordBytes` is being skipped until it ends. */
const MODE_SKIPPING = 2;
const BOM = [0xef, 0xbb, 0xbf];
/** Input is decoded and parsed in pieces of about this size (see `pieceEnd`). */
const PIECE_BYTES = 32 * 1024;
/** Bytes of an oversized record kept for its row error: what a dead letter keeps of any record. */
export const MAX_RAW_BYTES = RAW_MAX_BYTES;

/** Options every line-aligned parser takes. */
export interface LineParserOptions {
  /** A longer record (bytes before its LF) is skipped and reported; default 64 MiB. */
  readonly maxRecordBytes?: number;
  /** File offset of the first byte pushed (a previous batch's `endOffset` when resuming); default 0. */
  readonly startOffset?: number;
  /** Line number at `startOffset` (the previous batch's `endLine`); default 1. */
  readonly startLine?: number;
  /** How bytes become text; default `utf-8` (records with invalid bytes are row errors). */
  readonly encoding?: TextEncodingName;
  /** A record covering more input lines than this gets a warning; default: never. */
  readonly warnLines?: number;
  /** A record of more bytes than this gets a warning; default: never. */
  readonly warnBytes?: number;
}

/**
 * The byte side of a parser whose records end at an LF (the CSV and NDJSON parsers): UTF-8 BOM,
 * carrying incomplete input, decoding in pieces, skipping oversized records, batch bookkeeping. A
 * subclass supplies the hot loop (`parseText`) and a byte scanner that finds where a record ends.
 */
export abstract class LineParser<R> {
  protected readonly maxRecordBytes: number;
  protected readonly encoding: TextEncodingName;
  protected readonly warnLines: number;
  protected readonly warnBytes: number;
  private offset: number;
  private line: number;
  private bomChecked: boolean;
  private done = false;
  private mode = MODE_NORMAL;
  private carry: Uint8Array[] = [];
  private carryLen = 0;
  private skip = { line: 0, offset: 0, raw: "", bytes: 0, lfs: 0, lastLf: false };
  private readonly scanner = new HighByteScanner();

  constructor(
    options: LineParserOptions,
    private readonly recordEnd: (text: string, start: number) => number,
  ) {
    const max = options.maxRecordBytes ?? 64 * 1024 * 1024;
    if (!(Number.isInteger(max) && max > 0))
      throw new RangeError("maxRecordBytes must be a positive integer");
    this.maxRecordBytes = max;
    this.encoding = options.encoding ?? "utf-8";
    this.warnLines = options.warnLines ?? Number.POSITIVE_INFINITY;
    this.warnBytes = options.warnBytes ?? Number.POSITIVE_INFINITY;
    if (!(this.warnLines >= 1 && this.warnBytes >= 1))
      throw new RangeError("warnLines and warnBytes must be at least 1");
    if (!TEXT_ENCODINGS.includes(this.encoding))
      throw new RangeError(`encoding must be one of ${TEXT_ENCODINGS.join(", ")}`);
    this.offset = options.startOffset ?? 0;
    this.line = options.startLine ?? 1;
    if (!(Number.isInteger(this.offset) && this.offset >= 0))
      throw new RangeError("startOffset must be an integer >= 0");
    if (!(Number.isInteger(this.line) && this.line >= 1))
      throw new RangeError("startLine must be an integer >= 1");
    this.bomChecked = this.offset !== 0 || this.encoding === "latin1";
  }

  /**
   * Parses the records of `t.text` (which ends in an LF) into `batch`. Returns the text length, or
   * the index where a record starts that goes on past the text (having set the scanner state to
   * match the end of the text); `lines` is set to the LFs before the returned index.
   */
  protected abstract parseText(t: DecodedText, batch: TextBatch<R>, lines: { n: number }): number;
  /** Advances the record-end scanner over `bytes[from, to)`; returns the index of the LF ending the record, or -1. */
  protected abstract scanBytes(bytes: Uint8Array, from: number, to: number): number;
  /** Puts the scanner at the start of a record. */
  protected abstract resetScan(): void;
  /** Why a record still open at the end of input is an error. */
  protected abstract unfinishedReason(line: number): string;

  /** File offset and line where the next unread record starts: where to resume after the last batch. */
  get position(): RecordPosition {
    return { byteOffset: this.offset, line: this.line };
  }

  /** Warns about a record spanning more than `warnLines` lines or `warnBytes` bytes. */
  protected warnSpan(
    batch: TextBatch<R>,
    line: number,
    byteOffset: number,
    lines: number,
    bytes: number,
  ): void {
    if (lines > this.warnLines || bytes > this.warnBytes)
      batch.warnings.push({ line, byteOffset, lines, bytes, message: this.spanMessage(line, lines, bytes) });
  }

  protected spanMessage(line: number, lines: number, bytes: number): string {
    return `the record starting at line ${line} covers ${lines} lines and ${bytes} bytes`;
  }

  protected tooLongReason(): string {
    return `record is longer than maxRecordBytes (${this.maxRecordBytes} bytes); it was skipped. Raise maxRecordBytes if records this long are expected`;
  }

  /**
   * Parses every record that `bytes` completes. `bytes` may be reused by the caller afterwards.
   *
   * Push about 64 KiB at a time (slices of a larger read are fine): the records of one push are all
   * alive until it returns, and under V8's default young generation a 1 MiB push (~10K records) gets
   * them copied by the scavenger; that made a 1M-row read 2-3x slower in `benchmarks/csv-parse.bench.ts`.
   */
  push(bytes: Uint8Array): ParseBatch<R> {
    if (this.done) throw new Error("push() called after finish()");
    const batch = this.newBatch();
    let p = 0;
    if (!this.bomChecked) {
      p = this.takeBom(bytes);
      if (p < 0) return batch;
      batch.endOffset = this.offset;
    }
    const n = bytes.length;
    const end = bytes.lastIndexOf(LF) + 1; // input up to `end` is complete lines
    while (p < end) {
      if (this.mode === MODE_SKIPPING) {
        p = this.skipBytes(bytes, p, end, batch);
        if (p < 0) p = end;
      } else if (this.carryLen > 0) {
        // Join the carried record with as little input as can end it.
        const e = this.mode === MODE_SPANNING ? this.scanBytes(bytes, p, end) : bytes.indexOf(LF, p);
        if (e === -1) {
          this.appendCarry(bytes, p, end, batch);
          p = end;
        } else {
          const data = concatBytes([...this.carry, bytes.subarray(p, e + 1)], this.carryLen + e + 1 - p);
          this.carry = [];
          this.carryLen = 0;
          this.parseBytes(data, true, batch, false);
          p = e + 1;
        }
      } else {
        const e = pieceEnd(bytes, p, end, PIECE_BYTES, this.scanner);
        this.parseBytes(bytes.subarray(p, e), false, batch, false);
        p = e;
      }
    }
    if (p < n) {
      if (this.mode === MODE_SKIPPING) this.skipBytes(bytes, p, n, batch);
      else {
        if (this.mode === MODE_SPANNING) this.scanBytes(bytes, p, n);
        this.appendCarry(bytes, p, n, batch);
      }
    }
    return batch;
  }

  /** Ends the input: parses the last record (no final newline needed) and reports what is unfinished. */
  finish(): ParseBatch<R> {
    if (this.done) throw new Error("finish() called twice");
    this.done = true;
    this.scanner.release();
    const batch = this.newBatch();
    if (this.mode === MODE_SKIPPING) {
      this.endSkip(batch, true);
      return batch;
    }
    if (this.carryLen === 0) return batch;
    const data = new Uint8Array(this.carryLen + 1);
    let at = 0;
    for (const part of this.carry) {
      data.set(part, at);
      at += part.length;
    }
    data[at] = LF; // a virtual terminator, so the scanner sees every record end in an LF
    this.carry = [];
    this.carryLen = 0;
    this.parseBytes(data, true, batch, true);
    return batch;
  }

  private newBatch(): TextBatch<R> {
    return new TextBatch<R>(this.offset, this.line, this.recordEnd);
  }

  /** Strips a UTF-8 BOM at file start; returns where data starts in `bytes`, or -1 to wait for more. */
  private takeBom(bytes: Uint8Array): number {
    const have = this.carryLen; // only a BOM prefix is ever carried before the check
    let i = 0;
    for (; have + i < 3 && i < bytes.length; i++) {
      if (bytes[i] !== BOM[have + i]) {
        this.bomChecked = true;
        return 0;
      }
    }
    if (have + i < 3) {
      this.carry.push(bytes.slice());
      this.carryLen += bytes.length;
      return -1;
    }
    this.bomChecked = true;
    this.carry = [];
    this.carryLen = 0;
    this.offset += 3;
    return i;
  }

  private appendCarry(bytes: Uint8Array, from: number, to: number, batch: TextBatch<R>): void {
    if (from >= to) return;
    this.carry.push(bytes.slice(from, to));
    this.carryLen += to - from;
    if (this.carryLen > this.maxRecordBytes) this.startSkipping(batch);
  }

  /** The carried record is too long: remember what to report, drop its bytes, skip to its end. */
  private startSkipping(batch: TextBatch<R>): void {
    const data = concatBytes(this.carry, this.carryLen);
    if (this.mode === MODE_NORMAL) {
      this.resetScan(); // a NORMAL carry holds no LF, so this scan cannot end the record
      this.scanBytes(data, 0, data.length);
    }
    this.skip = {
      line: this.line,
      offset: this.offset,
      raw: decodePrefix(data, Math.min(MAX_RAW_BYTES, this.maxRecordBytes), this.encoding),
      bytes: data.length,
      lfs: countLfBytes(data),
      lastLf: data[data.length - 1] === LF,
    };
    this.carry = [];
    this.carryLen = 0;
    this.mode = MODE_SKIPPING;
    batch.endOffset = this.offset;
  }

  /** Skips the oversized record in `bytes[from, to)`; returns where the rest starts, or -1 if it goes on. */
  private skipBytes(bytes: Uint8Array, from: number, to: number, batch: TextBatch<R>): number {
    const e = this.scanBytes(bytes, from, to);
    const stop = e === -1 ? to : e + 1;
    this.skip.bytes += stop - from;
    this.skip.lfs += countLfBytes(bytes, from, stop);
    if (stop > from) this.skip.lastLf = bytes[stop - 1] === LF;
    if (e === -1) return -1;
    this.endSkip(batch, false);
    return stop;
  }

  /** The oversized record has ended (at an LF, or at the end of input): report it. */
  private endSkip(batch: TextBatch<R>, eof: boolean): void {
    const sk = this.skip;
    // Lines covered: those its bytes start (at the end of input, the last may lack an LF).
    const lines = eof && !sk.lastLf ? sk.lfs + 1 : sk.lfs;
    const bytes = eof ? sk.bytes : sk.bytes - 1;
    this.warnSpan(batch, sk.line, sk.offset, lines, bytes);
    batch.errors.push({
      line: sk.line,
      byteOffset: sk.offset,
      raw: sk.raw,
      reason: this.tooLongReason(),
      lines,
      rawBytes: bytes,
    });
    this.offset = sk.offset + sk.bytes;
    this.line = sk.line + sk.lfs;
    this.mode = MODE_NORMAL;
    this.resetScan();
    sk.raw = "";
    batch.endOffset = this.offset;
    batch.endLine = this.line;
  }

  /** Decodes LF-terminated `data`, parses it, and carries an unfinished last record. */
  private parseBytes(data: Uint8Array, owned: boolean, batch: TextBatch<R>, eof: boolean): void {
    const t = DecodedText.decode(data, this.offset, this.line, owned, this.encoding);
    batch.addText(t);
    this.mode = MODE_NORMAL;
    const lines = { n: 0 };
    const stop = this.parseText(t, batch, lines);
    const text = t.text;
    const virtualLf = eof ? 1 : 0;
    if (stop === text.length) {
      this.offset += data.length - virtualLf;
      this.line += lines.n - virtualLf;
    } else if (eof) {
      // An unclosed quote: the record runs to the end of input. Keep only the start of its text.
      const line = this.line + lines.n;
      const byteOffset = t.byteOffset(stop);
      const from = t.bytesBefore(stop);
      const bytes = data.length - 1 - from;
      const lfs = countLfBytes(data, from, data.length - 1);
      const spanned = data.length > from + 1 && data[data.length - 2] === LF ? lfs : lfs + 1;
      this.warnSpan(batch, line, byteOffset, spanned, bytes);
      batch.errors.push({
        line,
        byteOffset,
        raw: t.prefix(stop, text.length - 1, MAX_RAW_BYTES),
        reason: this.unfinishedReason(line),
        lines: spanned,
        ...(bytes > MAX_RAW_BYTES ? { rawBytes: bytes } : {}),
      });
      this.offset += data.length - 1;
      this.line = line + lfs;
      this.resetScan();
    } else {
      const consumed = t.bytesBefore(stop);
      this.carry = [owned ? data.subarray(consumed) : data.slice(consumed)];
      this.carryLen = data.length - consumed;
      this.offset += consumed;
      this.line += lines.n;
      this.mode = MODE_SPANNING;
      if (this.carryLen > this.maxRecordBytes) this.startSkipping(batch);
    }
    batch.endOffset = this.offset;
    batch.endLine = this.line;
  }
}
