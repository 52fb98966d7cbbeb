/**
 * @module From an Excel sheet's rows to records: the range (`"B3:F"`), the header (the first row
 * of the range names the columns; empty names become `column_<letter>`, repeated ones get `_1`,
 * `_2`… as in the CSV source), and cell values: numbers, strings, booleans and dates as typed by
 * the workbook; a formula gives its cached result; rich text gives its text; an empty cell is
 * `null`; a merged area holds its value in its top-left cell only (the others are `null`, as in
 * the file). A cell holding an Excel error (`#DIV/0!`, `#N/A`) makes its row a row error.
 */
import type { ExcelRow } from "./xlsx-workbook.ts";

export interface CellRange {
  readonly firstCol: number;
  readonly firstRow: number;
  readonly lastCol?: number;
  readonly lastRow?: number;
}

/** `"B3"`, `"B3:F"` or `"B3:F100"` (columns and rows are 1-based). */
export function parseRange(range: string | undefined): CellRange {
  if (range === undefined) return { firstCol: 1, firstRow: 1 };
  const m = /^([A-Za-z]{1,3})([1-9]\d*)(?::([A-Za-z]{1,3})([1-9]\d*)?)?$/.exec(range);
  if (!m) throw new Error(`"${range}" is not a range like "A1", "B3:F" or "B3:F100"`);
  const r: CellRange = {
    firstCol: colNumber(m[1]),
    firstRow: Number(m[2]),
    lastCol: m[3] ? colNumber(m[3]) : undefined,
    lastRow: m[4] ? Number(m[4]) : undefined,
  };
  if ((r.lastCol ?? r.firstCol) < r.firstCol || (r.lastRow ?? r.firstRow) < r.firstRow)
    throw new Error(`"${range}" ends before it starts`);
  return r;
}

export function colNumber(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}

export function colLetters(n: number): string {
  let s = "";
  for (let x = n; x > 0; x = Math.floor((x - 1) / 26)) s = String.fromCharCode(65 + ((x - 1) % 26)) + s;
  return s;
}

type Cell = { value: unknown } | { error: string };

/** A cell's value as a record holds it. */
export function cellValue(v: unknown): Cell {
  if (v === undefined || v === null) return { value: null };
  if (typeof v !== "object" || v instanceof Date) return { value: v };
  const o = v as Record<string, unknown>;
  if (typeof o.error === "string") return { error: o.error };
  if ("formula" in o || "sharedFormula" in o) return cellValue(o.result);
  if (Array.isArray(o.richText))
    return { value: o.richText.map((r: { text?: string }) => r.text ?? "").join("") };
  if ("text" in o) return cellValue(o.text);
  return { value: JSON.stringify(v) };
}

export type RowResult =
  | { readonly row: number; readonly record: unknown }
  | { readonly row: number; readonly error: string; readonly raw: string };

/** Turns rows into records (or row errors); the first row of the range is the header when asked. */
export class RowMapper {
  private names: string[] | undefined;

  constructor(
    private readonly range: CellRange,
    header: boolean | readonly string[],
  ) {
    this.names = Array.isArray(header) ? [...header] : undefined;
    this.wantHeader = header === true;
  }
  private wantHeader: boolean;

  /** Past the range's last row: stop reading. */
  done(row: ExcelRow): boolean {
    return this.range.lastRow !== undefined && row.number > this.range.lastRow;
  }

  /** `undefined` for a row before the range, the header row, or a row with no values. */
  map(row: ExcelRow): RowResult | undefined {
    const { firstCol, firstRow } = this.range;
    if (row.number < firstRow) return undefined;
    const values = row.values;
    const last = Math.min(values.length - 1, this.range.lastCol ?? Number.MAX_SAFE_INTEGER);
    if (this.wantHeader) {
      this.wantHeader = false;
      this.names = headerNames(values, firstCol, last);
      return undefined;
    }
    const cells: unknown[] = [];
    let any = false;
    for (let c = firstCol; c <= last; c++) {
      const cell = cellValue(values[c]);
      if ("error" in cell)
        return {
          row: row.number,
          error: `cell ${colLetters(c)}${row.number} holds the Excel error ${cell.error}`,
          raw: rawOf(values),
        };
      if (cell.value !== null) any = true;
      cells.push(cell.value);
    }
    if (!any) return undefined;
    const names = this.names;
    if (!names) return { row: row.number, record: cells };
    const record: Record<string, unknown> = {};
    const width = Math.max(names.length, cells.length);
    for (let i = 0; i < width; i++) {
      record[i < names.length ? names[i] : `column_${colLetters(firstCol + i)}`] =
        i < cells.length ? cells[i] : null;
    }
    return { row: row.number, record };
  }
}

function headerNames(values: unknown[], first: number, last: number): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (let c = first; c <= last; c++) {
    const cell = cellValue(values[c]);
    const v = "value" in cell ? cell.value : null;
    let name =
      v === null || v === "" ? `column_${colLetters(c)}` : v instanceof Date ? v.toISOString() : String(v);
    if (seen.has(name)) {
      let k = 1;
      while (seen.has(`${name}_${k}`)) k++;
      name = `${name}_${k}`;
    }
    seen.add(name);
    names.push(name);
  }
  return names;
}

function rawOf(values: unknown[]): string {
  return JSON.stringify(
    values
      .slice(1)
      .map((v) => cellValue(v))
      .map((c) => ("error" in c ? c.error : c.value)),
  );
}
