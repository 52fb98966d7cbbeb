/**
 * @module Fills one vector of a DuckDB data chunk with rows `[from, from + n)` of a column:
 * `fillVector` for a batch source (the column says its type), `fillTarget` for
 * `Connection.appender` (the table's column type says how to convert, checking ranges).
 */
import { type DuckDBListType, type DuckDBType, DuckDBTypeId } from "@duckdb/node-api";
import duckdb, { type Vector } from "@duckdb/node-bindings";
import {
  copyRows,
  copyValidity,
  fillSymbols,
  nanValidity,
  repeatsOften,
  type Scratch,
  setNull,
  startList,
} from "./chunk-memory.ts";
import type { AppendColumnData, BatchColumnData } from "./types.ts";

/**
 * Fills one vector with rows `[from, from + n)` of a column: fixed-width
 * columns and list items as one memory copy each, NULLs as one validity copy
 * (only when the slice has any), strings one native call per row.
 */
export function fillVector(
  vec: Vector,
  data: BatchColumnData,
  from: number,
  n: number,
  scratch: Scratch,
): void {
  switch (data.type) {
    case "double": {
      const v = data.values;
      copyRows(vec, v, from, n);
      nanValidity(vec, v, from, n, scratch);
      break;
    }
    case "integer":
      copyRows(vec, data.values, from, n);
      break;
    case "varchar": {
      const v = data.values;
      if (repeatsOften(v, from, n)) {
        // Runs of one value (a dead letter's file, reason and error for a
        // run of bad rows): each run's string is written once and its struct
        // copied down (`fillSymbols`); a native call per value was most of
        // the cost of a dead letter.
        const codes = scratch.i32;
        const symbols: string[] = [];
        for (let i = 0; i < n; i++) {
          const x = v[from + i];
          if (x === null || x === undefined) codes[i] = 0;
          else if (i > 0 && x === v[from + i - 1]) codes[i] = symbols.length;
          else codes[i] = symbols.push(x);
        }
        fillSymbols(vec, codes, symbols, 0, n, scratch);
        break;
      }
      let mask: Uint32Array | undefined;
      for (let i = 0; i < n; i++) {
        const s = v[from + i];
        if (s === null || s === undefined) {
          mask = setNull(mask, i, scratch);
        } else duckdb.vector_assign_string_element(vec, i, s);
      }
      if (mask) copyValidity(vec, mask, n);
      break;
    }
    default: {
      const { base, total, child } = startList(vec, data.offsets, from, n, scratch);
      if (total === 0) break;
      if (data.type === "ubigint_list") {
        // Counts are whole numbers below 2^53: written as two u32 halves, no BigInt per item.
        if (scratch.u64.length < total * 2) scratch.u64 = new Uint32Array(total * 4);
        const out = scratch.u64;
        const v = data.values;
        for (let k = 0; k < total; k++) {
          const x = v[base + k];
          if (!(x >= 0 && x <= Number.MAX_SAFE_INTEGER && Number.isInteger(x))) {
            throw new RangeError(`ubigint_list item ${x} is not a whole number in [0, 2^53)`);
          }
          out[k * 2] = x >>> 0;
          out[k * 2 + 1] = Math.floor(x / 4294967296);
        }
        duckdb.copy_data_to_vector(child, 0, out.buffer as ArrayBuffer, out.byteOffset, total * 8);
      } else copyRows(child, data.values, base, total);
    }
  }
}

/** How `Connection.appender` fills a column of this table type. */
export type Target =
  | "double"
  | "bigint"
  | "integer"
  | "boolean"
  | "timestamp"
  | "varchar"
  | "usmallint_list"
  | "ubigint_list"
  | "double_list"
  | "varchar_list";

const SCALAR_TARGETS: ReadonlyMap<DuckDBTypeId, Target> = new Map([
  [DuckDBTypeId.DOUBLE, "double"],
  [DuckDBTypeId.BIGINT, "bigint"],
  [DuckDBTypeId.INTEGER, "integer"],
  [DuckDBTypeId.BOOLEAN, "boolean"],
  [DuckDBTypeId.TIMESTAMP, "timestamp"],
  [DuckDBTypeId.VARCHAR, "varchar"],
]);

const LIST_TARGETS: ReadonlyMap<DuckDBTypeId, Target> = new Map([
  [DuckDBTypeId.USMALLINT, "usmallint_list"],
  [DuckDBTypeId.UBIGINT, "ubigint_list"],
  [DuckDBTypeId.DOUBLE, "double_list"],
  [DuckDBTypeId.VARCHAR, "varchar_list"],
]);

export function targetOf(t: DuckDBType, where: string): Target {
  const target =
    t.typeId === DuckDBTypeId.LIST
      ? LIST_TARGETS.get((t as DuckDBListType).valueType.typeId)
      : SCALAR_TARGETS.get(t.typeId);
  if (!target) throw new TypeError(`${where}: columns of type ${t.toString()} cannot be appended in batches`);
  return target;
}

/** 2^63: BIGINT and TIMESTAMP values must be below it in magnitude. */
const I64_LIMIT = 2 ** 63;

/** Rounds half away from zero, as SQL's round does. */
const roundHalfAway = (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x));

/** Fills one vector of a table-typed chunk with rows `[from, from + n)` of a column. */
export function fillTarget(
  vec: Vector,
  target: Target,
  data: AppendColumnData,
  from: number,
  n: number,
  scratch: Scratch,
  name: string,
): void {
  const mismatch = () =>
    new TypeError(`column ${name}: ${data.type} data cannot be appended to a ${target} column`);
  switch (target) {
    case "double":
    case "integer":
    case "usmallint_list":
    case "ubigint_list":
    case "double_list":
      if (data.type === target || (target === "integer" && data.type === "integer")) {
        fillVector(vec, data as BatchColumnData, from, n, scratch);
        return;
      }
      if (target !== "integer" || data.type !== "double") throw mismatch();
      {
        const v = data.values;
        const out = scratch.i32;
        let mask: Uint32Array | undefined;
        for (let i = 0; i < n; i++) {
          const r = roundHalfAway(v[from + i]);
          if (r >= -2147483648 && r <= 2147483647) out[i] = r;
          else {
            // NaN, or beyond the 32-bit range: NULL.
            out[i] = 0;
            mask = setNull(mask, i, scratch);
          }
        }
        copyRows(vec, out, 0, n);
        if (mask) copyValidity(vec, mask, n);
      }
      return;
    case "bigint":
    case "timestamp": {
      if (data.type !== "double") throw mismatch();
      const v = data.values;
      const out = scratch.i64;
      const scale = target === "timestamp" ? 1000 : 1;
      let mask: Uint32Array | undefined;
      for (let i = 0; i < n; i++) {
        const r = roundHalfAway(v[from + i] * scale);
        // Beyond the 64-bit range (or NaN, or infinite): NULL.
        if (!(r >= -I64_LIMIT && r < I64_LIMIT)) {
          out[i * 2] = 0;
          out[i * 2 + 1] = 0;
          mask = setNull(mask, i, scratch);
          continue;
        }
        // Two's complement halves, exact for every whole double in range: the
        // low word is r mod 2^32, the high one floor(r / 2^32).
        out[i * 2] = (r % 4294967296) | 0;
        out[i * 2 + 1] = Math.floor(r / 4294967296);
      }
      duckdb.copy_data_to_vector(vec, 0, out.buffer as ArrayBuffer, out.byteOffset, n * 8);
      if (mask) copyValidity(vec, mask, n);
      return;
    }
    case "boolean": {
      if (data.type !== "double") throw mismatch();
      const v = data.values;
      const out = scratch.u8;
      for (let i = 0; i < n; i++) out[i] = v[from + i] !== 0 && !Number.isNaN(v[from + i]) ? 1 : 0;
      duckdb.copy_data_to_vector(vec, 0, out.buffer as ArrayBuffer, out.byteOffset, n);
      nanValidity(vec, v, from, n, scratch);
      return;
    }
    case "varchar":
      if (data.type === "varchar") fillVector(vec, data, from, n, scratch);
      else if (data.type === "symbols") fillSymbols(vec, data.codes, data.symbols, from, n, scratch);
      else throw mismatch();
      return;
    case "varchar_list": {
      if (data.type !== "varchar_list") throw mismatch();
      const { base, total, child } = startList(vec, data.offsets, from, n, scratch);
      for (let k = 0; k < total; k++) duckdb.vector_assign_string_element(child, k, data.values[base + k]);
      return;
    }
  }
}
