/**
 * @module Text encodings of the file sources, and finding bytes that are not valid UTF-8.
 *
 * Why: a file that is not valid UTF-8 must not be read as if it were. The fast path stays one
 * fatal `TextDecoder` call per piece of input (`utf8.ts`); only when it throws does
 * `invalidLines` walk the piece in JavaScript to find, for each line holding a bad byte, where
 * the first one is, so the parser can send exactly the records on those lines to the dead letter
 * and name the offending byte. The rules are the WHATWG decoder's (the same as Python's strict
 * `utf-8`): overlong forms, surrogates, code points past U+10FFFF and truncated sequences are
 * invalid, and the error is at the first byte of the sequence that cannot be completed.
 */

/**
 * How file bytes become text. `utf-8` (default): a record holding bytes that are not valid UTF-8
 * goes to the dead letter; `replace`: UTF-8 with each invalid sequence read as U+FFFD; `latin1`:
 * ISO-8859-1, every byte one character (U+0000 to U+00FF).
 */
export type TextEncodingName = "utf-8" | "replace" | "latin1";

export const TEXT_ENCODINGS: readonly TextEncodingName[] = ["utf-8", "replace", "latin1"];

const LF = 0x0a;

/** Index of the first byte of the first invalid UTF-8 sequence in `b[from, to)`, or -1. */
export function invalidUtf8At(b: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + need >= to) return i;
    const c1 = b[i + 1];
    if (c1 < lo || c1 > hi) return i;
    for (let k = 2; k <= need; k++) {
      const ck = b[i + k];
      if (ck < 0x80 || ck > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Where the lines of a piece hold invalid UTF-8: line index (LFs before it) and first bad byte. */
export interface InvalidLines {
  /** Indices of the lines (0 = the piece's first) holding a bad byte, ascending. */
  readonly lines: number[];
  /** For each of those lines, the index in the piece of its first bad byte. */
  readonly at: number[];
}

/** Finds the lines of `bytes` that are not valid UTF-8 (call only after a fatal decode failed). */
export function invalidLines(bytes: Uint8Array): InvalidLines {
  const out: InvalidLines = { lines: [], at: [] };
  let line = 0;
  let lineStart = 0;
  for (let p = invalidUtf8At(bytes, 0, bytes.length); p !== -1; ) {
    for (let lf = bytes.indexOf(LF, lineStart); lf !== -1 && lf < p; lf = bytes.indexOf(LF, lf + 1)) {
      line++;
      lineStart = lf + 1;
    }
    out.lines.push(line);
    out.at.push(p);
    const lf = bytes.indexOf(LF, p);
    if (lf === -1) break;
    line++;
    lineStart = lf + 1;
    p = invalidUtf8At(bytes, lineStart, bytes.length);
  }
  return out;
}

/** The dead-letter reason for a record holding invalid UTF-8 at file offset `offset`. */
export function invalidUtf8Reason(bytes: Uint8Array, at: number, offset: number, line: number): string {
  const shown: string[] = [];
  for (let k = at; k < bytes.length && k < at + 4 && bytes[k] !== LF; k++)
    shown.push(bytes[k].toString(16).toUpperCase().padStart(2, "0"));
  return `not valid UTF-8: byte offset ${offset} (line ${line}) holds ${shown.join(" ")}, which is not a UTF-8 character; the record was not read. Convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8), or set the source's encoding option to "latin1" or "replace" (invalid bytes read as U+FFFD)`;
}

/** Decodes ISO-8859-1: each byte is the code point of the same value. */
export function decodeLatin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192)
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  return s;
}
