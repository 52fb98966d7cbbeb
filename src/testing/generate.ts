/**
 * @module Deterministic sample data: the same seed gives the same bytes on
 * every runtime (a 32-bit PRNG, no Math.random), so examples, conformance
 * tests and benchmarks can compare outputs byte for byte.
 */
import { fs, paths } from "../runtime/fs.ts";

/** mulberry32: tiny, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CATEGORIES = ["books", "games", "garden", "kitchen", "music", "sports", "toys", "test"];
const USERS = [
  "ada",
  "grace",
  "alan",
  "edsger",
  "barbara",
  "ken",
  "dennis",
  "margaret",
  "linus",
  "guido",
  "zoë",
  "jürgen",
];

export interface OrdersOptions {
  rows: number;
  seed?: number;
  /** One row in `badEvery` is malformed (ragged, bad number); 0 for none. Default 5000. */
  badEvery?: number;
}

/** Orders CSV text in pieces (header first), for streaming to a file. */
export function* ordersCsv(options: OrdersOptions): Generator<string> {
  const rand = prng(options.seed ?? 42);
  const bad = options.badEvery ?? 5000;
  const t0 = Date.UTC(2026, 0, 1);
  yield "id,user,category,amount,ts,note\n";
  let buf = "";
  for (let i = 1; i <= options.rows; i++) {
    const user = USERS[Math.floor(rand() * USERS.length)];
    const category = CATEGORIES[Math.floor(rand() * CATEGORIES.length)];
    const amount = (rand() * 500).toFixed(2);
    const ts = new Date(t0 + i * 1000).toISOString();
    const r = rand();
    const note =
      r < 0.05 ? `"gift, wrapped"` : r < 0.07 ? `"said ""thanks"""` : r < 0.08 ? `"two\nlines"` : "";
    if (bad > 0 && i % bad === 0) {
      buf +=
        i % (bad * 2) === 0 ? `${i},${user},${category}\n` : `${i},${user},${category},not-a-number,${ts},\n`;
    } else buf += `${i},${user},${category},${amount},${ts},${note}\n`;
    if (buf.length > 1 << 16) {
      yield buf;
      buf = "";
    }
  }
  if (buf) yield buf;
}

/** Writes the orders CSV to `path` unless it already exists; returns true if written. */
export async function ensureOrdersCsv(path: string, options: OrdersOptions): Promise<boolean> {
  const abs = paths.resolve(path);
  if (await fs.stat(abs)) return false;
  await fs.mkdirp(paths.dirname(abs));
  const tmp = `${abs}.tmp`;
  const w = await fs.openWriter(tmp);
  for (const piece of ordersCsv(options)) await w.write(piece);
  await w.close();
  await fs.rename(tmp, abs);
  return true;
}
