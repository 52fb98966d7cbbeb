/**
 * `sluice schema FILE` on node, bun and deno: CSV, JSON at a path, NDJSON and .xlsx; the sample
 * size in the output; help; usage errors; a JSON whose path holds no array. The printed
 * TypeScript is checked by tsc (strict), so what users paste compiles.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { available, type RuntimeName, repo, runCli } from "../helpers/runtimes.ts";

const runtimes: RuntimeName[] = ["node", "bun", "deno"];
// Inside the repository, so tsc resolves the printed `import { z } from "zod"`.
mkdirSync(join(repo, ".scratch"), { recursive: true });
const dir = mkdtempSync(join(repo, ".scratch", "schema-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const csv = ["id,user,amount,ts,ok,zip"];
  for (let i = 0; i < 30; i++)
    csv.push(
      `${i},u${i},${i % 4 ? `${i}.5` : ""},2024-01-${String(i + 1).padStart(2, "0")}T10:00:00Z,${i % 2 === 0},0${i}`,
    );
  writeFileSync(join(dir, "orders.csv"), `${csv.join("\n")}\n`);
  writeFileSync(
    join(dir, "doc.json"),
    JSON.stringify({
      meta: {},
      items: [
        { a: 1, b: "2024-01-01", c: { d: true } },
        { a: 2.5, b: "2024-01-02", e: null },
      ],
    }),
  );
  writeFileSync(join(dir, "ev.ndjson"), '{"k":1,"v":"x"}\n{"k":2,"v":null}\n');
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet("S");
  ws.addRow(["n", "when"]);
  ws.addRow([1, new Date(Date.UTC(2024, 0, 1))]);
  ws.getColumn(2).numFmt = "yyyy-mm-dd";
  await wb.xlsx.writeFile(join(dir, "book.xlsx"));
});

describe.each(runtimes)("sluice schema on %s", (rt) => {
  it.skipIf(!available(rt) && process.env.CI !== "true")(
    "prints a schema to paste, saying how many rows it sampled",
    () => {
      const r = runCli(rt, ["schema", join(dir, "orders.csv"), "--sample", "10"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^\/\/ Inferred by `sluice schema .*orders\.csv` from the first 10 records/);
      expect(r.stdout).toContain("export const Orders = z.object({");
      expect(r.stdout).toContain("  id: z.string().min(1).pipe(z.coerce.number<string>().int()),");
      expect(r.stdout).toContain(
        "  amount: blank(z.string().min(1).pipe(z.coerce.number<string>()).nullable()),",
      );
      expect(r.stdout).toContain("  ts: z.coerce.date(),");
      expect(r.stdout).toContain("  ok: z.stringbool(),");
      expect(r.stdout).toContain("  zip: z.string(),");
      const json = runCli(rt, ["schema", join(dir, "doc.json"), "--path", "$.items"]);
      expect(json.code, json.stderr).toBe(0);
      expect(json.stdout).toContain("from the first 2 records");
      expect(json.stdout).toContain("  a: z.number(),");
      expect(json.stdout).toContain("  e: z.unknown(), // only empty values in the sample");
      const xlsx = runCli(rt, ["schema", join(dir, "book.xlsx"), "--sheet", "S"]);
      expect(xlsx.code, xlsx.stderr).toBe(0);
      expect(xlsx.stdout).toContain("  when: z.date(),");
    },
  );

  it.skipIf(!available(rt) && process.env.CI !== "true")(
    "help, usage errors and a JSON path with no array",
    () => {
      const help = runCli(rt, ["schema", "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: sluice schema FILE/);
      expect(help.stdout).toMatch(/Example:\n {2}sluice schema /);
      expect(runCli(rt, ["--help"]).stdout).toContain("sluice schema FILE");
      const none = runCli(rt, ["schema"]);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain("schema: expected one data file");
      const bad = runCli(rt, ["schema", join(dir, "orders.csv"), "--sample", "0"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--sample "0" is not a positive whole number');
      const obj = runCli(rt, ["schema", join(dir, "doc.json")]);
      expect(obj.code).not.toBe(0);
      expect(obj.stderr).toContain("doc.json: $ holds an object (at byte 0), not an array");
      const missing = runCli(rt, ["schema", join(dir, "nope.csv")]);
      expect(missing.stderr).toContain("input file not found");
    },
  );
});

it("the printed schemas compile under tsc --strict", () => {
  const out: string[] = [];
  for (const [file, args] of [
    ["orders.csv", []],
    ["doc.json", ["--path", "$.items"]],
    ["ev.ndjson", []],
    ["book.xlsx", []],
  ] as const) {
    const r = runCli("node", ["schema", join(dir, file), ...args]);
    expect(r.code, r.stderr).toBe(0);
    const ts = join(dir, `${file.replace(".", "-")}.ts`);
    writeFileSync(ts, r.stdout);
    out.push(ts);
  }
  const tsc = spawnSync(
    process.execPath,
    [
      join(repo, "node_modules/typescript/bin/tsc"),
      "--noEmit",
      "--strict",
      "--skipLibCheck",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      "--target",
      "es2022",
      ...out,
    ],
    { encoding: "utf8", cwd: repo },
  );
  expect(tsc.stdout + tsc.stderr).toBe("");
  expect(tsc.status).toBe(0);
}, 120_000);
