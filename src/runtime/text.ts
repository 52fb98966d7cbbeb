/**
 * @module Text decoding that differs in speed between runtimes.
 *
 * `decodeAscii` turns bytes known to be ASCII (every byte < 0x80) into a string. For such bytes
 * UTF-8, Latin-1 and Windows-1252 agree, so any decoder gives the same string; the fastest differs.
 * Measured on the 2M-row orders CSV (118 MB in LF-aligned 32 KiB pieces, CPU time): Node 20
 * `TextDecoder("utf-8", { fatal: true })` 304 ms, `Buffer#toString("latin1")` 23 ms; Bun 49 / 25 ms;
 * Deno 126 / 29 ms. The CSV and NDJSON parsers cut input into runs of ASCII lines apart from lines
 * with other bytes (`sources/internal/utf8.ts`), so most input takes this path.
 */
import { Buffer, isUtf8 } from "node:buffer";
import { runtimeName } from "./detect.ts";

/** Decodes `bytes`, which the caller has checked hold only bytes below 0x80. */
export function decodeAscii(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
}

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes UTF-8 `bytes` as `TextDecoder("utf-8", { fatal: true, ignoreBOM: true })` does: the same
 * string for valid input, a `TypeError` for invalid input.
 *
 * Why on Node and Deno: V8's UTF-8 decoder is slow from the first non-ASCII byte to the end of
 * its input, and text such as names with an accent in every sixth row (the run-core orders CSV)
 * makes nearly every piece non-ASCII. Here `isUtf8` (simdutf) checks the bytes; they are read as
 * Latin-1 (one byte a character, native); and only the runs of bytes ≥ 0x80 (each a whole number
 * of UTF-8 sequences, since every lead and continuation byte is ≥ 0x80) are decoded, found four
 * bytes at a time. Measured on that CSV (107 MB in LF-aligned 64 KiB pieces, Node 20, 3 rounds):
 * `TextDecoder` fatal 298–357 ms, `isUtf8` + `Buffer#toString("utf8")` 315–344 ms, the earlier
 * version of this function (a regular expression for the runs, each checked and decoded in JS)
 * 139–167 ms, this one 58–77 ms. Text with a run every few bytes goes to `TextDecoder` (300k rows
 * of Cyrillic, CJK, or accents and emoji: 81, 44 and 28 ms, against 270, 133 and 113 for the
 * earlier version and 66–77, 40–43 and 24 for `TextDecoder` alone). Bun's `TextDecoder` is as fast
 * and is used as it is.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  if (runtimeName === "bun" || !isUtf8(bytes)) return fatal.decode(bytes);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const text = buf.toString("latin1");
  const n = bytes.length;
  // Whole 4-byte words of `bytes`, so that ASCII is skipped a word at a time.
  const head = (4 - (bytes.byteOffset & 3)) & 3;
  const count = n > head ? (n - head) >> 2 : 0;
  const words = count > 0 ? new Int32Array(bytes.buffer, bytes.byteOffset + head, count) : EMPTY;
  const tail = head + count * 4;
  let out = "";
  let last = 0;
  let runs = 0;
  let i = 0;
  while (i < n) {
    if (i >= head && i < tail && ((i - head) & 3) === 0) {
      let k = (i - head) >> 2;
      while (k < count && (words[k] & 0x80808080) === 0) k++;
      i = head + k * 4;
      if (i >= n) break;
    }
    const b0 = bytes[i];
    if (b0 < 0x80) {
      i++;
      continue;
    }
    // Text that is mostly not ASCII (a run every few bytes) is TextDecoder's: ~3 ns a byte
    // against ~50 ns a run here (Cyrillic or CJK rows: 3x faster there).
    if (++runs > 8 && runs > i >> 5) return fatal.decode(bytes);
    let j = i + 1;
    while (j < n && bytes[j] >= 0x80) j++;
    out += text.slice(last, i) + highRun(buf, b0, i, j);
    last = j;
    i = j;
  }
  return last === 0 ? text : out + text.slice(last);
}

const EMPTY = new Int32Array(0);

/** The text of `buf[i, j)`, valid UTF-8 of bytes ≥ 0x80 whose first is `b0`. */
function highRun(buf: Buffer, b0: number, i: number, j: number): string {
  // One 2- or 3-byte sequence (the usual accent or symbol) without a call into the runtime.
  if (j - i === 2) return String.fromCharCode(((b0 & 0x1f) << 6) | (buf[i + 1] & 0x3f));
  if (j - i === 3)
    return String.fromCharCode(((b0 & 0x0f) << 12) | ((buf[i + 1] & 0x3f) << 6) | (buf[i + 2] & 0x3f));
  return buf.toString("utf8", i, j);
}
