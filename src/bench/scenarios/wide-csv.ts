/**
 * @module The wide CSV of `benchmarks/csv-parse.bench.ts` (10 columns, ~100
 * bytes a row, quoted fields with commas and doubled quotes, some non-ASCII
 * text), generated the same way, so that benchmark's readers
 * (`benchmarks/peers/csv-parse-reader.ts`, `papaparse-reader.ts`) serve as
 * peers unchanged: every reader checksums the `note` and `email` columns.
 */
import { prng } from "../../testing/generate.ts";

const CATEGORIES = [
  "books",
  "garden",
  "toys",
  "music",
  "grocery",
  "sports",
  "beauty",
  "tools",
  "baby",
  "auto",
];
const COUNTRIES = ["DE", "FR", "US", "JP", "BR", "IN", "CN", "GB", "ES", "IT"];
const NAMES = ["ada", "bob", "carla", "dmitri", "eve", "farah", "goran", "hana", "ivan", "julia"];
const NOTES = ["ok", "fragile", "gift", "express", "", "leave at door", "call first"];
const QUOTED = ['"Deliver after 5pm, ring twice"', '"He said ""hi"", then left"', '"box, bag, or crate"'];
const UNICODE = ["Café crème", "東京 delivery", "naïve 😀 order", "Ærøskøbing"];

/** The file's text in pieces of about 1 MiB. */
export function* wideCsv(rows: number, seed: number): Generator<string> {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  let out = "id,user,email,category,amount,ts,country,active,qty,note\n";
  const t0 = Date.UTC(2024, 0, 1) / 1000;
  for (let i = 0; i < rows; i++) {
    const name = pick(NAMES);
    const n = Math.floor(rand() * 100000);
    const ts = new Date((t0 + i * 7) * 1000).toISOString().slice(0, 19);
    const p = rand();
    const note = p < 0.75 ? pick(NOTES) : p < 0.97 ? pick(QUOTED) : pick(UNICODE);
    out += `${i + 1},${name}_${n},${name}.${n}@example.com,${pick(CATEGORIES)},${(rand() * 1000).toFixed(2)},${ts}Z,${pick(COUNTRIES)},${rand() < 0.5},${Math.floor(rand() * 50)},${note}\n`;
    if (out.length > 1 << 20) {
      yield out;
      out = "";
    }
  }
  yield out;
}

/** What every reader computes: the sum of the lengths of two columns (32-bit). */
export function checksumStep(sum: number, r: { readonly note: string; readonly email: string }): number {
  return (sum + r.note.length + r.email.length) | 0;
}
