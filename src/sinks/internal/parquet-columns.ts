/**
 * @module The Parquet sink's columns: the schema inferred from the first rows (or given with
 * `types`), each record's values checked against it and gathered into column arrays, and the
 * row-group metadata's tagged-JSON form kept in the sidecar file beside the part file.
 */
import type { SchemaElement } from "hyparquet-writer";

/** The column types the sink writes. */
export const PARQUET_TYPES = ["DOUBLE", "INT32", "INT64", "STRING", "BOOLEAN", "TIMESTAMP", "JSON"] as const;
export type ParquetType = (typeof PARQUET_TYPES)[number];

export interface Column {
  readonly name: string;
  readonly type: ParquetType;
}

const ELEMENT: Record<ParquetType, Omit<SchemaElement, "name">> = {
  DOUBLE: { type: "DOUBLE" },
  INT32: { type: "INT32" },
  INT64: { type: "INT64" },
  STRING: { type: "BYTE_ARRAY", converted_type: "UTF8" },
  BOOLEAN: { type: "BOOLEAN" },
  TIMESTAMP: { type: "INT64", converted_type: "TIMESTAMP_MILLIS" },
  JSON: { type: "BYTE_ARRAY", converted_type: "JSON" },
};

/** The Parquet schema (every column nullable). */
export function schemaElements(columns: ReadonlyArray<Column>): SchemaElement[] {
  return [
    { name: "root", num_children: columns.length },
    ...columns.map((c) => ({ name: c.name, repetition_type: "OPTIONAL" as const, ...ELEMENT[c.type] })),
  ];
}

function typeOf(v: unknown): ParquetType | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "number") return "DOUBLE";
  if (typeof v === "bigint") return "INT64";
  if (typeof v === "string") return "STRING";
  if (typeof v === "boolean") return "BOOLEAN";
  if (v instanceof Date) return "TIMESTAMP";
  return "JSON";
}

/**
 * Columns from the records' keys in order of first appearance, typed by each column's first
 * non-null value (number → DOUBLE, bigint → INT64, string, boolean, Date → TIMESTAMP, anything
 * else → JSON; a column that is null throughout → STRING); `types` overrides.
 */
export function inferColumns(
  records: ReadonlyArray<unknown>,
  types: Readonly<Record<string, ParquetType>> = {},
): Column[] {
  const found = new Map<string, ParquetType | undefined>();
  for (const r of records) {
    if (r === null || typeof r !== "object") continue;
    for (const [k, v] of Object.entries(r)) if (found.get(k) === undefined) found.set(k, typeOf(v));
  }
  for (const k of Object.keys(types)) if (!found.has(k)) found.set(k, undefined);
  return [...found].map(([name, t]) => ({ name, type: types[name] ?? t ?? "STRING" }));
}

const I32 = 2 ** 31;

/** The value as the writer takes it for `type`, or an error text. */
export function toColumnValue(
  type: ParquetType,
  v: unknown,
): { ok: true; value: unknown } | { ok: false; why: string } {
  if (v === null || v === undefined) return { ok: true, value: null };
  switch (type) {
    case "DOUBLE":
      if (typeof v === "number") return { ok: true, value: v };
      if (typeof v === "bigint") return { ok: true, value: Number(v) };
      break;
    case "INT32":
      if (typeof v === "number" && Number.isInteger(v) && v >= -I32 && v < I32) return { ok: true, value: v };
      break;
    case "INT64":
      if (typeof v === "bigint") return { ok: true, value: v };
      if (typeof v === "number" && Number.isSafeInteger(v)) return { ok: true, value: BigInt(v) };
      break;
    case "STRING":
      if (typeof v === "string") return { ok: true, value: v };
      break;
    case "BOOLEAN":
      if (typeof v === "boolean") return { ok: true, value: v };
      break;
    case "TIMESTAMP":
      if (v instanceof Date && !Number.isNaN(v.getTime())) return { ok: true, value: v };
      break;
    case "JSON":
      return { ok: true, value: v };
  }
  const shown =
    typeof v === "string" ? JSON.stringify(v.slice(0, 40)) : v instanceof Date ? "Invalid Date" : String(v);
  return { ok: false, why: `${typeof v} ${shown} does not fit a ${type} column` };
}

/** JSON with bigint, Date and byte values tagged (row-group metadata holds all three). */
export function toTaggedJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, k, v) {
    const raw = this[k];
    if (typeof raw === "bigint") return { $n: raw.toString() };
    if (raw instanceof Date) return { $d: raw.getTime() };
    if (raw instanceof Uint8Array) return { $b: Array.from(raw) };
    return v;
  });
}

export function fromTaggedJson(text: string): unknown {
  return JSON.parse(text, (_k, v) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      if (typeof v.$n === "string") return BigInt(v.$n);
      if (typeof v.$d === "number") return new Date(v.$d);
      if (Array.isArray(v.$b)) return Uint8Array.from(v.$b);
    }
    return v;
  });
}
