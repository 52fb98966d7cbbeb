/**
 * @module Line-aligned UTF-8 decoding with exact byte offsets (`DecodedText`), and the helpers that
 * cut input into pieces for it; the byte side shared by the CSV and NDJSON parsers (`LineParser`,
 * in `line-parser.ts`, drives it).
 *
 * Why it is built this way: decoding is cheap only when it happens once per large run of input, so
 * input is cut after an LF (0x0A never occurs inside a multibyte sequence, so a cut never splits a
 * character), complete lines are decoded with one call per piece (`runtime/text.ts`: Latin-1 for an
 * all-ASCII piece, else UTF-8 with only the runs of high bytes decoded in JS) and the tail is
 * carried as bytes. Pieces are at most 32 KiB (strings stay in V8's young generation). Byte offsets must be exact — they are resume positions and
 * dead-letter addresses — but are rarely asked for, so they are derived lazily from the decoded
 * text: the identity for ASCII, the UTF-8 length for other valid text, and LF counting over a
 * private copy of the bytes for invalid input (U+FFFD replacements break the arithmetic). Only line
 * starts are ever asked for, which is what makes the LF method exact. Invalid input is only ever
 * found by the fatal decoder throwing, so valid input pays nothing for the check (`encoding.ts`).
 */

import { decodeAscii, decodeUtf8 } from "../../runtime/text.ts";
import {
  decodeLatin1,
  type InvalidLines,
  invalidLines,
  invalidUtf8Reason,
  type TextEncodingName,
} from "./encoding.ts";

const LF = 0x0a;
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
    ascii = false,
  ): DecodedText {
    // ASCII bytes read the same in every encoding offered; the fast decoder is exact for them.
    if (ascii) return new DecodedText(decodeAscii(bytes), byteStart, bytes.length, lineStart, undefined);
    if (encoding === "latin1")
      return new DecodedText(decodeLatin1(bytes), byteStart, bytes.length, lineStart, undefined);
    try {
      return new DecodedText(decodeUtf8(bytes), byteStart, bytes.length, lineStart, undefined);
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

/**
 * Finds bytes >= 0x80 four at a time. It keeps a `Uint32Array` view of the last buffer it scanned
 * (creating a view per call was ~5% of the parse on Bun), so each parser owns one and drops it at
 * the end of input.
 */
export class HighByteScanner {
  private buffer: ArrayBufferLike | undefined;
  private words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  /** Set by `pieceEnd`: whether the piece it ended holds only ASCII bytes. */
  ascii = false;

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

/**
 * Where to end the next piece of `bytes[from, to)` (which ends in an LF): just after an LF, at most
 * about `size` bytes on. Small pieces keep each decoded string in the young generation (V8 puts
 * strings over 128 KiB in large-object space, freed only by full collections). Pieces used to be
 * cut at the first line holding a byte ≥ 0x80, for V8's UTF-8 decoder; with `decodeUtf8` that
 * made input with an accent every few rows ~930-byte pieces and cost more than it saved (the
 * run-core CSV, sluice's parser alone, 5 alternating rounds: median 1.00 s CPU against 1.31 s).
 * Sets `scanner.ascii` to whether the piece holds only ASCII bytes (then `decodeAscii` reads it).
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
  let end = to;
  if (limit < to) {
    const e = bytes.lastIndexOf(LF, limit - 1);
    // One line longer than `size`: the piece runs to its end, past what was scanned.
    end = e >= from ? e + 1 : bytes.indexOf(LF, limit) + 1;
  }
  scanner.ascii = h !== -1 ? h >= end : end <= limit || scanner.next(bytes, limit, end) === -1;
  return end;
}
