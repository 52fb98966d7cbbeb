/**
 * @module The memory side of filling DuckDB data chunks through `@duckdb/node-bindings`: per-chunk
 * scratch buffers, row and validity copies, list entries, dictionary-coded strings, and the
 * DuckDB types of batch columns. `vectors.ts` decides what to copy; this file copies it (why
 * hand-written: `client.ts`).
 */
import { DOUBLE, type DuckDBType, INTEGER, LIST, UBIGINT, USMALLINT, VARCHAR } from "@duckdb/node-api";
import duckdb, { type Vector } from "@duckdb/node-bindings";
import type { BatchColumnType } from "./types.ts";

/** Up to how many rows one data chunk holds (DuckDB's vector size). */
export const CHUNK = 2048;

/**
 * Per-thread scratch for one chunk: list entries (offset, length as two
 * 32-bit halves of each u64), a validity mask, and u64 list items.
 */
export interface Scratch {
  entries: Uint32Array;
  validity: Uint32Array;
  u64: Uint32Array;
  /** One chunk of 64-bit integers as 32-bit halves (little-endian). */
  i64: Int32Array;
  i32: Int32Array;
  u8: Uint8Array;
  /** One chunk of 16-byte string structs. */
  strings: Uint32Array;
  /** Per symbol code: the row of the chunk holding its string (-1: none yet). */
  firstRow: Int32Array;
}

export const newScratch = (): Scratch => ({
  entries: new Uint32Array(CHUNK * 4),
  validity: new Uint32Array(CHUNK / 32),
  u64: new Uint32Array(CHUNK * 32),
  i64: new Int32Array(CHUNK * 2),
  i32: new Int32Array(CHUNK),
  u8: new Uint8Array(CHUNK),
  strings: new Uint32Array(CHUNK * 4),
  firstRow: new Int32Array(64),
});

/** `copy_data_to_vector` from a typed array's rows `[from, from + n)`. */
export function copyRows(
  vec: Vector,
  a: Float64Array | Int32Array | Uint16Array,
  from: number,
  n: number,
): void {
  const size = a.BYTES_PER_ELEMENT;
  duckdb.copy_data_to_vector(vec, 0, a.buffer as ArrayBuffer, a.byteOffset + from * size, n * size);
}

/** Writes a validity mask (bit set = valid) for the first `n` rows. */
export function copyValidity(vec: Vector, mask: Uint32Array, n: number): void {
  duckdb.vector_ensure_validity_writable(vec);
  // The mask is u64 words; ours are u32 halves, little-endian, so whole u64s are copied.
  duckdb.copy_data_to_vector_validity(
    vec,
    0,
    mask.buffer as ArrayBuffer,
    mask.byteOffset,
    Math.ceil(n / 64) * 8,
  );
}

/** Marks row `i` NULL in a chunk's validity mask, starting the mask (all valid) on first use. */
export function setNull(mask: Uint32Array | undefined, i: number, scratch: Scratch): Uint32Array {
  const m = mask ?? scratch.validity.fill(0xffffffff);
  m[i >>> 5] &= ~(1 << (i & 31));
  return m;
}

/** Writes a validity mask from the NaNs among `v[from, from + n)`, if there are any. */
export function nanValidity(vec: Vector, v: Float64Array, from: number, n: number, scratch: Scratch): void {
  let mask: Uint32Array | undefined;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(v[from + i])) {
      mask = setNull(mask, i, scratch);
    }
  }
  if (mask) copyValidity(vec, mask, n);
}

/**
 * Writes the list entries of rows `[from, from + n)` of flat `offsets`, sizes
 * the child vector for their items, and returns it with where the items start
 * in the flat values and how many there are.
 */
export function startList(
  vec: Vector,
  off: Uint32Array,
  from: number,
  n: number,
  scratch: Scratch,
): { base: number; total: number; child: Vector } {
  writeListEntries(vec, off, from, n, scratch);
  const base = off[from];
  const total = off[from + n] - base;
  duckdb.list_vector_reserve(vec, total);
  duckdb.list_vector_set_size(vec, total);
  return { base, total, child: duckdb.list_vector_get_child(vec) };
}

/** List entries (offset, length; u64 each) for rows `[from, from + n)` of flat `offsets`. */
export function writeListEntries(
  vec: Vector,
  off: Uint32Array,
  from: number,
  n: number,
  scratch: Scratch,
): void {
  const base = off[from];
  const entries = scratch.entries;
  for (let i = 0; i < n; i++) {
    const k = i << 2;
    entries[k] = off[from + i] - base;
    entries[k + 1] = 0;
    entries[k + 2] = off[from + i + 1] - off[from + i];
    entries[k + 3] = 0;
  }
  duckdb.copy_data_to_vector(vec, 0, entries.buffer as ArrayBuffer, entries.byteOffset, n * 16);
}

/**
 * A dictionary-coded VARCHAR column: each distinct value of the chunk is
 * written once (a native call), then its 16-byte string struct, which points
 * into the vector's own string heap (or holds a short string inline), is
 * copied to every other row with the same code, in one memory copy back.
 */
export function fillSymbols(
  vec: Vector,
  codes: Int32Array,
  symbols: readonly string[],
  from: number,
  n: number,
  scratch: Scratch,
): void {
  if (scratch.firstRow.length < symbols.length + 1) scratch.firstRow = new Int32Array(symbols.length * 2 + 1);
  const first = scratch.firstRow;
  let mask: Uint32Array | undefined;
  for (let i = 0; i < n; i++) {
    const code = codes[from + i];
    if (code === 0) {
      mask = setNull(mask, i, scratch);
      continue;
    }
    if (first[code] === 0) {
      first[code] = i + 1;
      const s = symbols[code - 1];
      if (s === undefined) {
        // The scratch marks are left clean: the next fill (of a reused chunk, too) must not copy a
        // struct from a row this one never wrote.
        first.fill(0);
        throw new RangeError(`symbol code ${code} is not in a list of ${symbols.length}`);
      }
      duckdb.vector_assign_string_element(vec, i, s);
    }
  }
  const out = scratch.strings;
  const c0 = codes[from];
  if (c0 !== 0 && first[c0] === 1 && n > 1 && codes[from + n - 1] === c0) {
    // One value for the whole chunk (the usual case: one run, one pipeline)?
    let same = true;
    for (let i = 1; i < n && same; i++) same = codes[from + i] === c0;
    if (same) {
      first[c0] = 0;
      const one = duckdb.vector_get_data(vec, 16);
      const w = new Uint32Array(one.buffer, one.byteOffset, 4);
      const [w0, w1, w2, w3] = [w[0], w[1], w[2], w[3]];
      for (let k = 0; k < n * 4; k += 4) {
        out[k] = w0;
        out[k + 1] = w1;
        out[k + 2] = w2;
        out[k + 3] = w3;
      }
      duckdb.copy_data_to_vector(vec, 0, out.buffer as ArrayBuffer, out.byteOffset, n * 16);
      return;
    }
  }
  // The structs as written so far (the distinct rows are set; the others are filled in next).
  const bytes = duckdb.vector_get_data(vec, n * 16);
  const src = new Uint32Array(bytes.buffer, bytes.byteOffset, n * 4);
  for (let i = 0; i < n; i++) {
    const code = codes[from + i];
    const k = i << 2;
    if (code === 0) {
      out[k] = out[k + 1] = out[k + 2] = out[k + 3] = 0;
      continue;
    }
    const j = (first[code] - 1) << 2;
    out[k] = src[j];
    out[k + 1] = src[j + 1];
    out[k + 2] = src[j + 2];
    out[k + 3] = src[j + 3];
  }
  for (let i = 0; i < n; i++) first[codes[from + i]] = 0;
  duckdb.copy_data_to_vector(vec, 0, out.buffer as ArrayBuffer, out.byteOffset, n * 16);
  if (mask) copyValidity(vec, mask, n);
}

/** Whether at least a quarter of a chunk's rows repeat the row before (checked on its first 64 rows). */
export function repeatsOften(v: ReadonlyArray<string | null>, from: number, n: number): boolean {
  const m = Math.min(n, 64);
  let repeats = 0;
  for (let i = 1; i < m; i++) {
    const x = v[from + i];
    if (x !== null && x !== undefined && x === v[from + i - 1]) repeats++;
  }
  return m > 1 && repeats * 4 >= m;
}

export function duckType(t: BatchColumnType): DuckDBType {
  switch (t) {
    case "double":
      return DOUBLE;
    case "integer":
      return INTEGER;
    case "varchar":
      return VARCHAR;
    case "usmallint_list":
      return LIST(USMALLINT);
    case "ubigint_list":
      return LIST(UBIGINT);
    case "double_list":
      return LIST(DOUBLE);
  }
}
