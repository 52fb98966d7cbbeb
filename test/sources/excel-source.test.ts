/**
 * The Excel source against an independent reader of the same files: exceljs's whole-workbook
 * `xlsx.readFile` (the streaming path here shares only its cell typing). Typed cells (numbers,
 * dates, booleans, formulas, rich text, multi-byte text across read boundaries), sheets by name
 * and position, range and header options, merged and empty cells, Excel error cells, a workbook
 * whose parts come in the order that trips exceljs#3064, corrupt and truncated files, resume from
 * a checkpoint, and `infer: true`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { EventBus, type EventOf, pipeline, runCollect, runPipeline } from "../../src/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { excel } from "../../src/sources/index.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-excel-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const book = join(dir, "book.xlsx");
const big = join(dir, "big.xlsx");
const BIG = 30_000;

/** A cell as the independent reader gives it, reduced to what a record holds. */
function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v !== "object" || v instanceof Date) return v;
  const o = v as Record<string, unknown>;
  if ("result" in o || "formula" in o) return plain(o.result);
  if (Array.isArray(o.richText)) return o.richText.map((r: { text: string }) => r.text).join("");
  return v;
}

/** Records of a sheet read by exceljs's whole-file reader: the first row names the columns. */
async function oracle(file: string, sheet: string | number): Promise<Record<string, unknown>[]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const ws = wb.getWorksheet(sheet)!;
  let names: string[] = [];
  const out: Record<string, unknown>[] = [];
  ws.eachRow((row, n) => {
    const values = (row.values as unknown[]).slice(1);
    if (n === 1) names = values.map((v) => String(plain(v)));
    else out.push(Object.fromEntries(names.map((k, i) => [k, plain(values[i])])));
  });
  return out;
}

async function read(file: string, options: Parameters<typeof excel>[1] = {}) {
  const bus = new EventBus();
  const dead: EventOf<"dead.letter">[] = [];
  bus.subscribe((e) => e.kind === "dead.letter" && dead.push(e));
  const out = collect();
  const s = await runPipeline(pipeline("xl").from(excel(file, options)).to(out), { home: dir, bus });
  return { records: out.records as Record<string, unknown>[], dead, summary: s };
}

beforeAll(async () => {
  const wb = new ExcelJS.Workbook();
  const other = wb.addWorksheet("Notes");
  other.addRow(["note"]);
  other.addRow(["first sheet is not the data"]);
  const ws = wb.addWorksheet("Orders");
  ws.addRow(["id", "user", "amount", "when", "ok", "total", "label"]);
  for (let i = 1; i <= 40; i++) {
    ws.addRow([
      i,
      `user ${i} zoë ✓ 😀 "q" <&>`,
      i % 5 === 0 ? null : i * 1.25,
      new Date(Date.UTC(2024, 0, i, 12, 30)),
      i % 2 === 0,
      { formula: `A${i + 1}*2`, result: i * 2 },
      i === 3 ? { richText: [{ text: "rich " }, { font: { bold: true }, text: "text" }] } : `L${i}`,
    ]);
  }
  ws.getColumn(4).numFmt = "yyyy-mm-dd hh:mm";
  await wb.xlsx.writeFile(book);

  const w = new ExcelJS.stream.xlsx.WorkbookWriter({
    filename: big,
    useSharedStrings: true,
    useStyles: true,
  });
  const s = w.addWorksheet("Big");
  s.addRow(["n", "text", "when"]).commit();
  for (let i = 1; i <= BIG; i++) {
    s.addRow([
      i,
      `${"ŝ€😀".repeat(i % 17)}#${i % 997}`,
      new Date(Date.UTC(2020, 0, 1) + i * 3_600_000),
    ]).commit();
  }
  s.getColumn(3).numFmt = "yyyy-mm-dd";
  s.commit();
  await w.commit();
});

describe("excel source", () => {
  it("reads a sheet by name as exceljs's whole-file reader does (typed cells, formulas, rich text)", async () => {
    const { records, summary } = await read(book, { sheet: "Orders" });
    expect(summary.status).toBe("completed");
    expect(records).toHaveLength(40);
    expect(records).toEqual(await oracle(book, "Orders"));
    expect(records[2].label).toBe("rich text");
    expect(records[0].when).toBeInstanceOf(Date);
    expect(records[4].amount).toBeNull();
  });

  it("reads 30,000 rows in order with multi-byte text across read boundaries", async () => {
    const { records } = await read(big);
    expect(records).toHaveLength(BIG);
    const expected = await oracle(big, "Big");
    expect(records).toEqual(expected);
  });

  it("multi-byte inline strings stay whole (exceljs's WorkbookReader breaks some at read boundaries)", async () => {
    const file = join(dir, "inline.xlsx");
    const w = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false });
    const s = w.addWorksheet("S");
    s.addRow(["n", "text"]).commit();
    for (let i = 1; i <= 30_000; i++) s.addRow([i, `${"ŝ€😀".repeat(i % 17)}#${i}`]).commit();
    s.commit();
    await w.commit();
    const { records } = await read(file);
    expect(records).toHaveLength(30_000);
    expect(records.filter((r) => String(r.text).includes("\uFFFD"))).toEqual([]);
    expect(records).toEqual(await oracle(file, "S"));
  });

  it("sheet by position, a range, header names, and arrays without a header", async () => {
    const first = await read(book, { sheet: 1 });
    expect(first.records).toEqual([{ note: "first sheet is not the data" }]);
    const ranged = await read(book, { sheet: "Orders", range: "A1:B3" });
    expect(ranged.records).toEqual([
      { id: 1, user: 'user 1 zoë ✓ 😀 "q" <&>' },
      { id: 2, user: 'user 2 zoë ✓ 😀 "q" <&>' },
    ]);
    const named = await read(book, { sheet: "Orders", range: "A2:B3", header: ["n", "who"] });
    expect(named.records.map((r) => r.n)).toEqual([1, 2]);
    const arrays = await read(book, { sheet: "Orders", range: "E40:F", header: false });
    expect(arrays.records).toEqual([
      [false, 78],
      [true, 80],
    ]);
  });

  it("merged cells hold their value in the top-left cell; empty cells are null; empty rows are skipped", async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("M");
    ws.addRow(["a", "b", "c", ""]);
    ws.addRow(["merged", null, 3]);
    ws.mergeCells("A2:B2");
    ws.getRow(4).values = [null, 5, null, 6];
    const file = join(dir, "merged.xlsx");
    await wb.xlsx.writeFile(file);
    const { records } = await read(file);
    expect(records).toEqual([
      { a: "merged", b: null, c: 3, column_D: null },
      { a: null, b: 5, c: null, column_D: 6 },
    ]);
  });

  it("a cell holding an Excel error dead-letters its row with sheet and row; the rest goes on", async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("E");
    ws.addRow(["x", "y"]);
    ws.addRow([1, 2]);
    ws.addRow([2, { error: "#DIV/0!" }]);
    ws.addRow([3, 4]);
    const file = join(dir, "errors.xlsx");
    await wb.xlsx.writeFile(file);
    const { records, dead, summary } = await read(file);
    expect(records).toEqual([
      { x: 1, y: 2 },
      { x: 3, y: 4 },
    ]);
    expect(dead).toHaveLength(1);
    expect(dead[0].reason).toBe("cell B3 holds the Excel error #DIV/0!");
    expect(dead[0].position).toEqual({ file, sheet: "E", line: 3 });
    expect(summary.rowsIn).toBe(summary.rowsOut + summary.deadLettered);
  });

  it("reads a workbook whose sheets come before its sheet list (exceljs#3064's order) every time", async () => {
    const wb = new ExcelJS.Workbook();
    wb.addWorksheet("First").addRow(["a", "b"]);
    const second = wb.addWorksheet("Second");
    second.addRow(["c", "d"]);
    second.addRow([1, 2]);
    const file = join(dir, "order.xlsx");
    await wb.xlsx.writeFile(file);
    for (let i = 0; i < 10; i++) {
      const { records, summary } = await read(file, { sheet: "Second" });
      expect(summary.status, summary.error?.message).toBe("completed");
      expect(records).toEqual([{ c: 1, d: 2 }]);
    }
  });

  it("a file that is not an .xlsx, a truncated one, and a missing sheet fail with file and reason", async () => {
    const notZip = join(dir, "fake.xlsx");
    writeFileSync(notZip, "id,name\n1,a\n");
    expect((await read(notZip)).summary.error?.message).toBe(
      `excel source: ${notZip}: not an .xlsx (zip) file, or it is truncated: no zip directory at its end`,
    );
    const cut = join(dir, "cut.xlsx");
    const bytes = readFileSync(book);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 200));
    expect((await read(cut)).summary.error?.message).toMatch(/^excel source: .*cut\.xlsx: .*truncated/);
    const missing = await read(book, { sheet: "Nope" });
    expect(missing.summary.error?.message).toBe(
      `excel source: ${book}: no sheet "Nope"; its sheets: "Notes", "Orders"`,
    );
  });

  it("a sheet whose data breaks off: the rows before go on, the rest is one dead letter", async () => {
    const bytes = Buffer.from(readFileSync(big));
    // Corrupt the middle of the sheet's compressed data (the largest part of the archive).
    const name = Buffer.from("xl/worksheets/sheet1.xml");
    const local = bytes.indexOf(Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04])]), 0);
    let at = local;
    let sheetStart = -1;
    while (at >= 0) {
      const nameLength = bytes.readUInt16LE(at + 26);
      if (bytes.subarray(at + 30, at + 30 + nameLength).equals(name)) {
        sheetStart = at + 30 + nameLength + bytes.readUInt16LE(at + 28);
        break;
      }
      at = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]), at + 4);
    }
    expect(sheetStart).toBeGreaterThan(0);
    const mid = sheetStart + 200_000;
    for (let i = 0; i < 64; i++) bytes[mid + i] ^= 0xa5;
    const file = join(dir, "corrupt.xlsx");
    writeFileSync(file, bytes);
    const { records, dead, summary } = await read(file);
    expect(summary.status).toBe("completed");
    expect(records.length).toBeGreaterThan(100);
    expect(records.length).toBeLessThan(BIG);
    expect(records).toEqual((await oracle(big, "Big")).slice(0, records.length));
    expect(dead).toHaveLength(1);
    expect(dead[0].reason).toMatch(
      /^the sheet's data breaks off after row \d+: .*the rest of the sheet was not/,
    );
    expect(dead[0].position.sheet).toBe("Big");
  });

  it("resumes from a checkpoint at (sheet, row) with nothing twice", async () => {
    const bus = new EventBus();
    const cps: EventOf<"checkpoint">[] = [];
    bus.subscribe((e) => e.kind === "checkpoint" && cps.push(e));
    const p = () => pipeline("xres", { checkpoint: { rows: 5000 } }).from(excel(big, { chunkRows: 1000 }));
    const all = await runCollect(p(), { home: dir, bus });
    const mid = cps[Math.floor(cps.length / 2)];
    const offset = mid.sourceOffset as { sheet: string; row: number };
    expect(offset.sheet).toBe("Big");
    const rest = await runCollect(p(), { home: dir, resume: { runId: "xres-2", checkpoint: mid } });
    expect(rest).toEqual(all.slice(offset.row - 1));
    expect(rest.length).toBeGreaterThan(0);
  });

  it("infer: true validates every row with the schema of the first rows", async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("I");
    ws.addRow(["id", "price", "when"]);
    for (let i = 1; i <= 20; i++) ws.addRow([i, i + 0.5, new Date(Date.UTC(2024, 0, i))]);
    ws.addRow(["twenty-one", 1, new Date(Date.UTC(2024, 1, 1))]);
    ws.getColumn(3).numFmt = "yyyy-mm-dd";
    const file = join(dir, "infer.xlsx");
    await wb.xlsx.writeFile(file);
    const { records, dead } = await read(file, { infer: { sample: 20 } });
    expect(records).toHaveLength(20);
    expect(records[0]).toEqual({ id: 1, price: 1.5, when: new Date(Date.UTC(2024, 0, 1)) });
    expect(dead).toHaveLength(1);
    expect(dead[0].reason).toMatch(/^schema: id: /);
    expect(dead[0].position).toEqual({ file, sheet: "I", line: 22 });
    expect(() => excel(file, { range: "1A" })).toThrow(/range: "1A" is not a range/);
    expect(() => excel(file, { infer: true, header: false })).toThrow(/infer needs named columns/);
    const typed = await read(file, {
      schema: z.object({ id: z.number(), price: z.number(), when: z.date() }),
    });
    expect(typed.dead).toHaveLength(1);
  });
});
