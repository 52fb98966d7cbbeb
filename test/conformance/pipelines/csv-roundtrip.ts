// Conformance: raw CSV strings (quotes, CRLF, multibyte) → CSV sink, no schema.

import { mkdirSync, writeFileSync } from "node:fs";
import { pipeline } from "sluice";
import { map } from "sluice/operators";
import { csv as csvSink } from "sluice/sinks";
import { csv } from "sluice/sources";
import { prng } from "sluice/testing";

const rand = prng(99);
const pieces = ["plain", "with,comma", 'say "hi"', "two\r\nlines", "zoë ☃ 日本語 🎉", "", " spaced "];
let text = "a,b,c\r\n";
for (let i = 0; i < 5000; i++) {
  const f = () => {
    const p = pieces[Math.floor(rand() * pieces.length)];
    return /[",\r\n]/.test(p) ? `"${p.replace(/"/g, '""')}"` : p;
  };
  text += `${f()},${f()},${i}\r\n`;
}
mkdirSync("data", { recursive: true });
writeFileSync("data/tricky.csv", `\uFEFF${text}`);

export default pipeline("conformance-csv")
  .from(csv("data/tricky.csv", { bufferSize: 4096 }))
  .via(map((r) => ({ c: r.c, a: r.a.toUpperCase(), b: r.b, len: [...r.a].length })))
  .to(csvSink("out/tricky.csv"));
