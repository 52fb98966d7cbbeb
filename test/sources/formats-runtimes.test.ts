/**
 * The JSON and Excel sources, and CSV inference, through the CLI on node, bun and deno, each
 * compared with an independent reader of the same file (Python's json module; exceljs's
 * whole-file reader), with bad input: a truncated JSON file, a corrupt .xlsx, a row that breaks
 * the inferred schema.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { available, type RuntimeName, repo, runCli } from "../helpers/runtimes.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-formats-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixture = join(repo, "test/fixtures/pipelines/formats.ts");
const runtimes: RuntimeName[] = ["node", "bun", "deno"];
const files = join(root, "files");

function run(rt: RuntimeName, name: string, options: object = {}) {
  const cwd = join(root, `${rt}-${name}`);
  mkdirSync(join(cwd, "data"), { recursive: true });
  writeFileSync(join(cwd, "data", name), readFileSync(join(files, name)));
  const r = runCli(rt, ["run", fixture, "--home", join(cwd, ".sluice")], {
    cwd,
    env: { SLUICE_TEST_INPUT: `data/${name}`, SLUICE_TEST_OPTIONS: JSON.stringify(options) },
  });
  const lines = (f: string) => {
    try {
      return readFileSync(f, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    } catch {
      return [];
    }
  };
  const dlPath = /dead letters: (.+)$/m.exec(r.stdout)?.[1];
  return { ...r, rows: lines(join(cwd, "out/rows.ndjson")), dead: dlPath ? lines(dlPath) : [] };
}

function python(file: string, keys: string[]): unknown[] {
  const script = `import json,sys\nd=json.load(open(sys.argv[1],encoding="utf-8"))\nfor k in sys.argv[2:]: d=d[k]\nprint(json.dumps(d))`;
  const r = spawnSync("python3", ["-c", script, file, ...keys], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

let excelExpected: unknown[] = [];

beforeAll(async () => {
  mkdirSync(files, { recursive: true });
  const items = Array.from({ length: 2500 }, (_, i) => ({
    id: i,
    name: `n${i} zoë ✓ 😀 "q"\n`,
    amount: i % 9 === 0 ? null : i / 8,
    tags: i % 4 ? ["x", { y: i }] : [],
  }));
  writeFileSync(join(files, "in.json"), JSON.stringify({ meta: { n: items.length }, items }, null, 1));
  const full = JSON.stringify(items.slice(0, 50));
  writeFileSync(join(files, "cut.json"), full.slice(0, full.lastIndexOf("},{") + 12));
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet("Cover").addRow(["not", "this"]);
  const ws = wb.addWorksheet("Data");
  ws.addRow(["id", "who", "when", "ok", "total"]);
  for (let i = 1; i <= 500; i++)
    ws.addRow([
      i,
      `w${i} ŝ€😀`,
      new Date(Date.UTC(2024, 1, 1) + i * 86_400_000),
      i % 3 === 0,
      { formula: `A${i + 1}*3`, result: i * 3 },
    ]);
  ws.getColumn(3).numFmt = "yyyy-mm-dd";
  await wb.xlsx.writeFile(join(files, "in.xlsx"));
  const oracle = new ExcelJS.Workbook();
  await oracle.xlsx.readFile(join(files, "in.xlsx"));
  const rows: unknown[] = [];
  oracle.getWorksheet("Data")!.eachRow((row, n) => {
    if (n === 1) return;
    const v = (row.values as unknown[]).slice(1);
    const total = v[4] as { result: number };
    rows.push({ id: v[0], who: v[1], when: (v[2] as Date).toISOString(), ok: v[3], total: total.result });
  });
  excelExpected = rows;
  const bytes = readFileSync(join(files, "in.xlsx"));
  writeFileSync(join(files, "bad.xlsx"), bytes.subarray(0, bytes.length - 100));
  const csv = ["id,price,day"];
  for (let i = 0; i < 40; i++) csv.push(`${i},${i}.25,2024-03-${String((i % 28) + 1).padStart(2, "0")}`);
  csv.push("40,oops,2024-03-01", "41,1,2024-03-02");
  writeFileSync(join(files, "in.csv"), `${csv.join("\n")}\n`);
});

describe.each(runtimes)("format sources on %s", (rt) => {
  const missing = !available(rt);
  if (missing && process.env.CI === "true") {
    it("is available", () => expect(available(rt), `${rt} is missing under CI`).toBe(true));
    return;
  }
  it.skipIf(missing)(
    "JSON: the array at $.items as Python reads it; a truncated file dead-letters its tail",
    () => {
      const r = run(rt, "in.json", { path: "$.items" });
      expect(r.code, r.stderr).toBe(0);
      expect(r.rows).toEqual(python(join(files, "in.json"), ["items"]));
      const cut = run(rt, "cut.json");
      expect(cut.code, cut.stderr).toBe(0);
      expect(cut.rows.length).toBeGreaterThan(40);
      expect(cut.dead).toHaveLength(1);
      expect(cut.dead[0].reason).toMatch(/^invalid JSON in element \d+ \(which starts at byte \d+\)/);
      expect(cut.dead[0].position.index).toBe(cut.rows.length);
    },
  );

  it.skipIf(missing)(
    "Excel: a sheet as exceljs's whole-file reader reads it; a truncated .xlsx fails clearly",
    () => {
      const r = run(rt, "in.xlsx", { sheet: "Data" });
      expect(r.code, r.stderr).toBe(0);
      expect(r.rows).toEqual(excelExpected);
      const bad = run(rt, "bad.xlsx");
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/excel source: data\/bad\.xlsx: .*truncated/);
    },
  );

  it.skipIf(missing)("CSV with infer: true dead-letters the row that breaks the inferred schema", () => {
    const r = run(rt, "in.csv", { infer: { sample: 40 } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.rows).toHaveLength(41);
    expect(r.rows[1]).toEqual({ id: 1, price: 1.25, day: "2024-03-02T00:00:00.000Z" });
    expect(r.dead.map((d: { position: { line: number } }) => d.position.line)).toEqual([42]);
    expect(r.dead[0].reason).toMatch(/^schema: price: /);
  });
});
