/**
 * @module Store values read back as numbers and strings (DuckDB may hand
 * back BIGINTs as bigints or strings, and NULL as null): what the report
 * builders share.
 */
import type { SqlValue } from "../../duckdb/client.ts";

export const num = (v: SqlValue | undefined): number => (typeof v === "number" ? v : Number(v ?? 0));
export const numOrNull = (v: SqlValue | undefined): number | null =>
  v === null || v === undefined
    ? null
    : typeof v === "number"
      ? v
      : Number.isFinite(Number(v))
        ? Number(v)
        : null;
export const strOrNull = (v: SqlValue | undefined): string | null =>
  v === null || v === undefined ? null : String(v);
