/**
 * @module Values across the client boundary: bound parameters to DuckDB values and types, and
 * result values (bigint, `Date`, DuckDB value objects) to JSON-able `SqlValue`s.
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  listValue,
  VARCHAR,
} from "@duckdb/node-api";
import type { SqlParams, SqlValue } from "./types.ts";

export function bind(
  params: SqlParams,
): [DuckDBValue[] | Record<string, DuckDBValue>, DuckDBType[] | Record<string, DuckDBType>] {
  if (Array.isArray(params)) {
    const values: DuckDBValue[] = [];
    const types: DuckDBType[] = [];
    for (const p of params as readonly SqlValue[]) {
      const [v, t] = toDuck(p);
      values.push(v);
      types.push(t);
    }
    return [values, types];
  }
  const values: Record<string, DuckDBValue> = {};
  const types: Record<string, DuckDBType> = {};
  for (const [k, p] of Object.entries(params as Record<string, SqlValue>)) {
    const [v, t] = toDuck(p);
    values[k] = v;
    types[k] = t;
  }
  return [values, types];
}

function toDuck(p: SqlValue): [DuckDBValue, DuckDBType] {
  if (p === null) return [null, VARCHAR];
  if (typeof p === "boolean") return [p, BOOLEAN];
  if (typeof p === "number") {
    return Number.isSafeInteger(p) ? [BigInt(p), BIGINT] : [p, DOUBLE];
  }
  if (typeof p === "string") return [p, VARCHAR];
  if (Array.isArray(p)) {
    const items = p as readonly SqlValue[];
    if (items.length > 0 && items.every((x) => typeof x === "number"))
      return [listValue(items as number[]), LIST(DOUBLE)];
    return [listValue(items.map((x) => (x === null ? null : String(x)))), LIST(VARCHAR)];
  }
  return [JSON.stringify(p), VARCHAR];
}

const asIs = (v: unknown): SqlValue => (v === undefined ? null : (v as SqlValue));

/** The cheapest correct conversion for a column of this DuckDB type. */
export function converterFor(type: string): (v: unknown) => SqlValue {
  switch (type) {
    case "DOUBLE":
    case "FLOAT":
    case "INTEGER":
    case "SMALLINT":
    case "TINYINT":
    case "UINTEGER":
    case "USMALLINT":
    case "UTINYINT":
      return (v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : asIs(v));
    case "VARCHAR":
    case "BOOLEAN":
      return asIs;
    default:
      return toSql;
  }
}

/** Client values to JSON-able ones: bigint → number (string past 2^53), Date → ISO string. */
export function toSql(v: unknown): SqlValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "number":
      return Number.isFinite(v) ? v : String(v);
    case "string":
    case "boolean":
      return v;
    case "bigint":
      return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
        ? Number(v)
        : v.toString();
  }
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (Array.isArray(v)) return v.map(toSql);
  if (v instanceof Uint8Array) return Array.from(v);
  if (typeof v === "object") {
    const o: Record<string, SqlValue> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = toSql(x);
    return o;
  }
  return String(v);
}
