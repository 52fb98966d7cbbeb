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
import { Buffer } from "node:buffer";
import { runtimeName } from "./detect.ts";

/** Decodes `bytes`, which the caller has checked hold only bytes below 0x80. */
export function decodeAscii(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
}

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const HIGH_RUNS = /[\x80-\xff]+/g;

/**
 * Decodes UTF-8 `bytes` as `TextDecoder("utf-8", { fatal: true, ignoreBOM: true })` does: the same
 * string for valid input, a `TypeError` for invalid input.
 *
 * Why on Node: V8's UTF-8 decoder is slow from the first non-ASCII byte to the end of its input,
 * and text such as names with an accent in every sixth row (the run-core orders CSV) makes
 * nearly every piece non-ASCII. Measured there (107 MB in LF-aligned 32 KiB pieces, Node 20):
 * `TextDecoder` fatal 298–357 ms, `isUtf8` + `Buffer#toString("utf8")` 313–325 ms. Here the
 * bytes are read as Latin-1 (one byte a character), and only the runs of bytes ≥ 0x80 — each a
 * whole number of UTF-8 sequences, since every lead and continuation byte is ≥ 0x80 — are
 * decoded and checked in JS: 157–221 ms on Node, 94–96 ms on Deno (its `TextDecoder` 156–171).
 * Bun's `TextDecoder` (50–145 ms) is as fast as this (52–78 ms) and is used as it is.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  if (runtimeName === "bun") return fatal.decode(bytes);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
  HIGH_RUNS.lastIndex = 0;
  let m = HIGH_RUNS.exec(text);
  if (m === null) return text;
  const parts: string[] = [];
  let last = 0;
  while (m !== null) {
    parts.push(text.slice(last, m.index), decodeHighRun(m[0]));
    last = m.index + m[0].length;
    m = HIGH_RUNS.exec(text);
  }
  parts.push(text.slice(last));
  return parts.join("");
}

const invalid = () => new TypeError("The encoded data was not valid for encoding utf-8");

/** Decodes a run of bytes ≥ 0x80 (as Latin-1 characters) holding whole UTF-8 sequences. */
function decodeHighRun(run: string): string {
  let out = "";
  const n = run.length;
  let i = 0;
  while (i < n) {
    const b0 = run.charCodeAt(i);
    let need: number;
    let cp: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      need = 1;
      cp = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      cp = b0 & 0x0f;
      if (b0 === 0xe0) lo = 0xa0;
      else if (b0 === 0xed) hi = 0x9f; // no surrogates
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      cp = b0 & 0x07;
      if (b0 === 0xf0) lo = 0x90;
      else if (b0 === 0xf4) hi = 0x8f; // nothing past U+10FFFF
    } else throw invalid();
    if (i + need >= n) throw invalid(); // cut off before its last byte
    for (let k = 1; k <= need; k++) {
      const b = run.charCodeAt(i + k);
      if (k === 1 ? b < lo || b > hi : b < 0x80 || b > 0xbf) throw invalid();
      cp = (cp << 6) | (b & 0x3f);
    }
    i += need + 1;
    out +=
      cp < 0x10000
        ? String.fromCharCode(cp)
        : String.fromCharCode(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
  }
  return out;
}
