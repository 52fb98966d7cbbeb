/**
 * @module Records to DuckDB columns for the table sink: the schema inferred
 * from the first chunk (or given), and each chunk turned column-major with
 * every value checked against its column's type. A value that does not fit
 * (text in a DOUBLE column) sends its record to the dead letter with the
 * column and the reason, instead of failing the run or storing NULL.
 */
import type { ColumnValue, TableColumn, ValueKind } from "../../duckdb/table.ts";

/** Column types the sink creates (and the `columns` option accepts). */
export const COLUMN_TYPES = [
  "BOOLEAN",
  "BIGINT",
  "INTEGER",
  "DOUBLE",
  "VARCHAR",
  "TIMESTAMP",
  "JSON",
] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** The sink's own columns: which run wrote a row, and its position in that run's output. */
export const RUN_COLUMN = "_sluice_run";
export const ROW_COLUMN = "_sluice_row";

export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
}

/** A record as a field map: objects as they are, anything else as `{ value }`. */
export function fieldsOf(record: unknown): Record<string, unknown> {
  return typeof record === "object" && record !== null && !Array.isArray(record) && !(record instanceof Date)
    ? (record as Record<string, unknown>)
    : { value: record };
}

/** Columns for the fields of the first chunk, in first-seen order. */
export function inferColumns(records: ReadonlyArray<unknown>): ColumnDef[] {
  const seen = new Map<string, Set<string>>();
  for (const r of records) {
    const f = fieldsOf(r);
    for (const k in f) {
      if (k === RUN_COLUMN || k === ROW_COLUMN) continue;
      let kinds = seen.get(k);
      if (!kinds) {
        kinds = new Set();
        seen.set(k, kinds);
      }
      const v = f[k];
      if (v !== null && v !== undefined)
        kinds.add(v instanceof Date ? "date" : Array.isArray(v) ? "object" : typeof v);
    }
  }
  return Array.from(seen, ([name, kinds]) => ({ name, type: typeFor(kinds) }));
}

function typeFor(kinds: Set<string>): ColumnType {
  if (kinds.size === 0) return "VARCHAR";
  if (kinds.has("object")) return "JSON";
  if (kinds.size === 1) {
    const [k] = kinds;
    if (k === "boolean") return "BOOLEAN";
    if (k === "number") return "DOUBLE";
    if (k === "bigint") return "BIGINT";
    if (k === "date") return "TIMESTAMP";
    return "VARCHAR";
  }
  if (kinds.size === 2 && kinds.has("number") && kinds.has("bigint")) return "DOUBLE";
  return "VARCHAR";
}

/** `"name"` with inner quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function createTableSql(table: string, columns: readonly ColumnDef[]): string {
  const defs = columns.map((c) => `${quoteIdent(c.name)} ${c.type}`);
  defs.push(`${quoteIdent(RUN_COLUMN)} VARCHAR NOT NULL`, `${quoteIdent(ROW_COLUMN)} BIGINT NOT NULL`);
  return `CREATE TABLE ${quoteIdent(table)} (${defs.join(", ")})`;
}

type Check = (v: unknown) => ColumnValue | typeof BAD;
const BAD = Symbol("bad");

function checker(kind: ValueKind, sqlType: string): Check {
  switch (kind) {
    case "boolean":
      return (v) => (typeof v === "boolean" ? v : BAD);
    case "integer":
      return (v) => (typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v)) ? v : BAD);
    case "float":
      return (v) => (typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : BAD);
    case "timestamp":
      return (v) => {
        const ms =
          v instanceof Date
            ? v.getTime()
            : typeof v === "number"
              ? v
              : typeof v === "string"
                ? Date.parse(v)
                : Number.NaN;
        return Number.isFinite(ms) ? ms : BAD;
      };
    case "string":
      if (sqlType === "JSON")
        return (v) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
      return (v) =>
        typeof v === "string"
          ? v
          : typeof v === "object"
            ? v instanceof Date
              ? v.toISOString()
              : JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x))
            : String(v);
  }
}

export interface Converted {
  /** One array per table column, in table order. */
  readonly columns: ColumnValue[][];
  readonly rows: number;
}

/**
 * Turns records into table columns. `firstRow` numbers the rows
 * (`_sluice_row`); records with a value that does not fit are passed to
 * `bad` and left out, and so are records with no value for a column in
 * `required` (the key of an upsert).
 */
export function toColumns(
  records: ReadonlyArray<unknown>,
  table: readonly TableColumn[],
  runId: string,
  firstRow: number,
  bad: (index: number, reason: string) => void,
  required?: ReadonlySet<string>,
): Converted {
  const checks = table.map((c) =>
    c.name === RUN_COLUMN || c.name === ROW_COLUMN || !c.kind ? undefined : checker(c.kind, c.sqlType),
  );
  const columns: ColumnValue[][] = table.map(() => []);
  let rows = 0;
  const staged: ColumnValue[] = new Array(table.length);
  for (let i = 0; i < records.length; i++) {
    const f = fieldsOf(records[i]);
    let ok = true;
    for (let c = 0; c < table.length; c++) {
      const check = checks[c];
      const name = table[c].name;
      if (!check) {
        staged[c] = name === RUN_COLUMN ? runId : name === ROW_COLUMN ? firstRow + rows : null;
        continue;
      }
      const v = f[name];
      if (v === null || v === undefined) {
        if (required?.has(name)) {
          bad(i, `the key column ${name} has no value`);
          ok = false;
          break;
        }
        staged[c] = null;
        continue;
      }
      const x = check(v);
      if (x === BAD) {
        bad(i, `column ${name} is ${table[c].sqlType} but the value is ${describe(v)}`);
        ok = false;
        break;
      }
      staged[c] = x;
    }
    if (!ok) continue;
    for (let c = 0; c < table.length; c++) columns[c].push(staged[c]);
    rows++;
  }
  return { columns, rows };
}

function describe(v: unknown): string {
  const text = typeof v === "string" ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : String(v);
  return `${v instanceof Date ? "a Date" : Array.isArray(v) ? "an array" : `a ${typeof v}`} (${text})`;
}
