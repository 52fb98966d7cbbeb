/**
 * Runs on node, bun and deno (see text.test.ts): `decodeUtf8` against
 * `TextDecoder("utf-8", { fatal: true, ignoreBOM: true })` on seeded random bytes (ASCII with
 * valid sequences of every length, and bytes that break the rules), and on the byte sequences of
 * every code point class; prints how many cases agree and the first that do not.
 */
import { decodeUtf8 } from "../../src/runtime/text.ts";

const reference = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const outcome = (f: () => string): string => {
  try {
    return `ok:${f()}`;
  } catch (e) {
    return e instanceof TypeError ? "error" : `other:${String(e)}`;
  }
};

let seed = 0x9e3779b9;
const random = (n: number): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};
const encoder = new TextEncoder();
const pieces = [
  () => encoder.encode("id,name\n"),
  () => encoder.encode(String.fromCodePoint(0x80 + random(0x780))), // 2 bytes
  () => encoder.encode(String.fromCodePoint(0x800 + random(0xd000))), // 3 bytes
  () => encoder.encode(String.fromCodePoint(0x10000 + random(0xfffff))), // 4 bytes
  () => Uint8Array.of(0x80 + random(0x80)), // any high byte: often invalid
  () => Uint8Array.of(0xed, 0xa0 + random(0x20), 0x80), // a surrogate
  () => Uint8Array.of(0xe0, 0x80 + random(0x20), 0x80), // overlong
  () => Uint8Array.of(0xf4, 0x90 + random(0x30), 0x80, 0x80), // past U+10FFFF
];

const differ: string[] = [];
let same = 0;
let cases = 0;
const check = (bytes: Uint8Array) => {
  cases++;
  const a = outcome(() => decodeUtf8(bytes));
  const b = outcome(() => reference.decode(bytes));
  if (a === b) same++;
  else if (differ.length < 5)
    differ.push(`${Array.from(bytes, (x) => x.toString(16)).join(" ")}: ${a} / ${b}`);
};
for (let i = 0; i < 20_000; i++) {
  const parts: Uint8Array[] = [];
  for (let k = random(8); k >= 0; k--) parts.push(pieces[random(pieces.length)]());
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  check(bytes);
  if (bytes.length > 2) check(bytes.subarray(0, bytes.length - 1)); // often cut mid-sequence
}
for (let b0 = 0x80; b0 <= 0xff; b0++)
  for (let b1 = 0; b1 <= 0xff; b1 += 3) check(Uint8Array.of(0x61, b0, b1, 0x80, 0x80));
console.log(JSON.stringify({ cases, same, differ }));
