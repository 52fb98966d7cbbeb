/**
 * An independent oracle for the CSV parser: a deterministic multi-megabyte CSV full of quoting,
 * embedded newlines, CRLF, delimiters in quotes, empty fields and multibyte text is read by Python's
 * `csv` module and by our parser fed in random-sized buffers; values and start lines must agree, and
 * every byte offset must point at the record's text.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CsvParser } from "../../src/sources/internal/csv-parser.ts";
import { feed, split, utf8 } from "./internal/feed.ts";

const hasPython = spawnSync("python3", ["--version"]).status === 0;
const dir = mkdtempSync(join(tmpdir(), "sluice-csv-oracle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** mulberry32: small and seedable, so the file is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SAMPLES = [
  "plain",
  "with space ",
  " lead",
  "a,b",
  'say "hi"',
  '"',
  '""',
  ",",
  "multi\nline",
  "crlf\r\ninside",
  "\n",
  "😀",
  "👩‍👩‍👧 family",
  "🇩🇪🇯🇵",
  "東京都渋谷区",
  "e\u0301\u0327 combining",
  "עברית",
  "العربية",
  "हिन्दी",
  "Zoë ÆØÅ ß",
  "\ufeffzwnbsp",
  "tab\there",
  "x".repeat(300),
];

function field(rand: () => number): string {
  const p = rand();
  if (p < 0.12) return "";
  if (p < 0.3) return String(Math.floor(rand() * 1e6));
  if (p < 0.75) return SAMPLES[Math.floor(rand() * SAMPLES.length)];
  // Random code points from every plane (no surrogates, no NUL, no bare CR).
  let s = "";
  const n = 1 + Math.floor(rand() * 12);
  for (let i = 0; i < n; i++) {
    const r = rand();
    const cp =
      r < 0.4
        ? 0x20 + Math.floor(rand() * 0x5f)
        : r < 0.7
          ? 0xa0 + Math.floor(rand() * 0x700)
          : r < 0.9
            ? 0x3000 + Math.floor(rand() * 0xa800)
            : 0x10000 + Math.floor(rand() * 0x10000);
    s += String.fromCodePoint(cp);
  }
  return s;
}

/** Writes the CSV; returns its path and size. Fixed width, so `header: true` can be checked too. */
function generate(seed: number, targetBytes: number, width: number): { path: string; text: string } {
  const rand = prng(seed);
  const rows: string[] = [];
  let size = 0;
  for (let r = 0; size < targetBytes; r++) {
    const cells: string[] = [];
    for (let c = 0; c < width; c++) {
      const v = r === 0 ? `col${c}` : field(rand);
      const needs = /[",\r\n]/.test(v) || (c === 0 && v.startsWith("\ufeff"));
      cells.push(needs || rand() < 0.15 ? `"${v.replaceAll('"', '""')}"` : v);
    }
    const row = cells.join(",");
    rows.push(row);
    size += Buffer.byteLength(row) + 1;
    if (rand() < 0.02) rows.push(""); // a blank line now and then
  }
  let text = "\ufeff";
  for (let i = 0; i < rows.length; i++)
    text += rows[i] + (i === rows.length - 1 ? "" : rows[i].length % 3 === 0 ? "\r\n" : "\n");
  const path = join(dir, `oracle-${seed}.csv`);
  writeFileSync(path, text);
  return { path, text };
}

const PYTHON = `
import csv, json, sys
csv.field_size_limit(sys.maxsize)
out = []
with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:
    r = csv.reader(f)
    prev = 0
    for row in r:
        if row:
            out.append([prev + 1, row])
        prev = r.line_num
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False)
`;

/** What Python's csv module reads: [start line, fields] per non-blank row. */
function pythonRead(path: string): [number, string[]][] {
  const out = `${path}.json`;
  const r = spawnSync("python3", ["-c", PYTHON, path, out], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return JSON.parse(readFileSync(out, "utf8"));
}

function randomSizes(seed: number, count: number): number[] {
  const rand = prng(seed);
  return Array.from({ length: count }, () => {
    const p = rand();
    return p < 0.05
      ? 1 + Math.floor(rand() * 16)
      : p < 0.5
        ? 17 + Math.floor(rand() * 4096)
        : 4097 + Math.floor(rand() * 260000);
  });
}

describe.skipIf(!hasPython)("CSV parser against Python's csv module", () => {
  it("reads a 4 MB adversarial file exactly as Python does, whatever the buffer sizes", () => {
    const { path, text } = generate(7, 4_000_000, 7);
    const bytes = new Uint8Array(readFileSync(path));
    expect(bytes.length).toBeGreaterThan(3_000_000);
    const expected = pythonRead(path);
    expect(expected.length).toBeGreaterThan(10_000);
    expect(text).toContain("\r\n");

    const arrays = feed(new CsvParser({ header: false }), split(bytes, randomSizes(11, 5000)), {
      input: bytes,
    });
    expect(arrays.errors).toEqual([]);
    expect(arrays.records.length).toBe(expected.length);
    for (let i = 0; i < expected.length; i++) {
      const [line, row] = expected[i];
      if (arrays.positions[i].line !== line || JSON.stringify(arrays.records[i]) !== JSON.stringify(row)) {
        expect({ i, line: arrays.positions[i].line, record: arrays.records[i] }).toEqual({
          i,
          line,
          record: row,
        });
      }
    }
    expect(arrays.endOffset).toBe(bytes.length);

    const objects = feed(new CsvParser({ header: true }), split(bytes, randomSizes(12, 5000)));
    const names = expected[0][1];
    expect(objects.errors).toEqual([]);
    expect(objects.records.length).toBe(expected.length - 1);
    for (let i = 1; i < expected.length; i += 97) {
      expect(objects.records[i - 1]).toEqual(Object.fromEntries(names.map((n, k) => [n, expected[i][1][k]])));
    }
  });
});

describe.skipIf(!hasPython)("CSV parser against Python: invalid UTF-8 and relaxed quotes", () => {
  it("finds the same first bad byte as Python's strict utf-8 decoder, line by line", () => {
    const rand = prng(21);
    const pick = (xs: readonly number[][]) => xs[Math.floor(rand() * xs.length)];
    // Pieces of valid and invalid UTF-8 (overlong, surrogates, > U+10FFFF, truncated, stray continuation).
    const pieces = [
      [0x61],
      [0x2c],
      [0xc3, 0xa9],
      [0xe6, 0x9d, 0xb1],
      [0xf0, 0x9f, 0x98, 0x80],
      [0xff],
      [0x80],
      [0xc0, 0xaf],
      [0xe0, 0x80, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
      [0xf0, 0x9f, 0x98],
      [0xc3],
    ];
    const lines: number[][] = [];
    for (let i = 0; i < 3000; i++) {
      const line: number[] = [0x78];
      const n = 1 + Math.floor(rand() * 8);
      for (let k = 0; k < n; k++) line.push(...(rand() < 0.8 ? pick(pieces.slice(0, 5)) : pick(pieces)));
      lines.push(line);
    }
    const bytes = new Uint8Array(lines.flatMap((l) => [...l, 0x0a]));
    const path = join(dir, "utf8-oracle.csv");
    writeFileSync(path, bytes);
    const py = spawnSync(
      "python3",
      [
        "-c",
        `import sys, json
out, at = [], 0
for line in open(sys.argv[1], "rb").read().split(b"\\n")[:-1]:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as e:
        out.append(at + e.start)
    at += len(line) + 1
print(json.dumps(out))`,
        path,
      ],
      { encoding: "utf8" },
    );
    expect(py.status, py.stderr).toBe(0);
    const expected: number[] = JSON.parse(py.stdout);
    expect(expected.length).toBeGreaterThan(300);
    const r = feed(new CsvParser({ header: false, relaxQuotes: true }), split(bytes, randomSizes(22, 500)));
    const found = r.errors.map((e) => Number(/^not valid UTF-8: byte offset (\d+)/.exec(e.reason)?.[1]));
    expect(found).toEqual(expected);
    expect(r.records.length + r.errors.length).toBe(lines.length);
  });

  it("reads stray quotes and text after a closing quote as Python does, with relaxQuotes", () => {
    const rand = prng(31);
    const fields = ['x"y', '5"', '"q"r', '"a""b"c', "plain", '"ok"', '"multi\nline"', "", 'a""b', '"x"y"z"'];
    const rows: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const n = 1 + Math.floor(rand() * 5);
      rows.push(Array.from({ length: n }, () => fields[Math.floor(rand() * fields.length)]).join(","));
    }
    const path = join(dir, "relaxed.csv");
    writeFileSync(path, `${rows.join("\n")}\n`);
    const expected = pythonRead(path);
    const bytes = new Uint8Array(readFileSync(path));
    const r = feed(new CsvParser({ header: false, relaxQuotes: true }), split(bytes, randomSizes(32, 500)));
    expect(r.errors).toEqual([]);
    expect(r.records).toEqual(expected.map(([, row]) => row));
    expect(r.positions.map((p) => p.line)).toEqual(expected.map(([line]) => line));
    // Strict (the default) sends exactly the rows with such quotes to the dead letter.
    const strict = feed(new CsvParser({ header: false }), [bytes]);
    expect(strict.records.length + strict.errors.length).toBe(expected.length);
    expect(strict.errors.length).toBeGreaterThan(1000);
  });
});

describe("header names against papaparse", () => {
  it("renames duplicates exactly as papaparse does", async () => {
    const Papa = (await import("papaparse")).default;
    const rand = prng(41);
    const names = ["c", "c_1", "c_2", "c_1_1", "d", "c_3"];
    const warn = console.warn;
    console.warn = () => {}; // papaparse warns on every duplicate
    try {
      for (let i = 0; i < 500; i++) {
        const n = 1 + Math.floor(rand() * 7);
        const header = Array.from({ length: n }, () => names[Math.floor(rand() * names.length)]);
        const text = `${header.join(",")}\n${header.map((_, k) => k).join(",")}\n`;
        const ours = new CsvParser({ header: true });
        ours.push(utf8(text));
        const theirs = Papa.parse<Record<string, string>>(text, { header: true });
        expect(ours.columns).toEqual(theirs.meta.fields);
      }
    } finally {
      console.warn = warn;
    }
  });
});
