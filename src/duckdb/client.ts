/**
 * @module The embedded DuckDB client (`@duckdb/node-api`, which runs on Node,
 * Bun and Deno) behind a small surface: open a database, run SQL with bound
 * parameters, read results as JSON-able rows, and bulk-insert columnar batches.
 *
 * Bulk inserts go through a table function registered on the connection:
 * `INSERT INTO t SELECT … FROM <batch>()` pulls 2048-row data chunks that are
 * filled column by column from typed arrays. The statement runs on DuckDB's
 * threads (the event loop only fills vectors, and with two scanning threads
 * DuckDB appends one chunk while the next is filled), and SQL can cast and
 * derive columns on the way in. Measured against the row-by-row Appender in
 * `benchmarks/metrics.bench.ts`.
 *
 * The vectors are filled through `@duckdb/node-bindings` (the native module
 * `@duckdb/node-api` itself wraps, declared with the same range so both
 * resolve to one copy): a fixed-width column is one `copy_data_to_vector` of
 * a typed-array slice, NULLs one validity copy, and a list column its entries
 * and flat child items in one copy each. The client's `DuckDBVector.setItem`
 * path costs a call per value and, for lists, a `listValue` per row: scanning
 * a million rows shaped like `stage_progress` (18 doubles, an integer, two
 * 16-item lists) took 0.77–1.5 s of CPU that way against 0.14 s this way
 * (Node 20, 2 cores, load ~5). Hand-written because the client has no bulk
 * setter for a vector.
 *
 * Only this file imports the client, so the rest of the engine never sees its
 * value classes (bigint, `DuckDBTimestampValue`, …): results come back as
 * numbers, strings, ISO timestamps, arrays and plain objects.
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBListType,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
  INTEGER,
  LIST,
  listValue,
  StatementType,
  UBIGINT,
  USMALLINT,
  VARCHAR,
} from "@duckdb/node-api";
import duckdb, { type Vector } from "@duckdb/node-bindings";

/** A JSON-able value as results and parameters carry them. */
export type SqlValue =
  | null
  | boolean
  | number
  | string
  | readonly SqlValue[]
  | { readonly [k: string]: SqlValue };
export type SqlRow = Record<string, SqlValue>;
export type SqlParams = Readonly<Record<string, SqlValue>> | readonly SqlValue[];

export interface DuckDBOpenOptions {
  /** Open with `access_mode=READ_ONLY` (fails if another process writes the file). */
  readonly readOnly?: boolean;
  /**
   * Allow SQL to read and write files, attach databases and load extensions.
   * Default false: the metrics store never needs it, and it keeps user SQL
   * from reaching the file system.
   */
  readonly externalAccess?: boolean;
}

/** Column types a batch source can produce. NaN in a `double` column is NULL. */
export type BatchColumnType =
  | "double"
  | "integer"
  | "varchar"
  | "usmallint_list"
  | "ubigint_list"
  | "double_list";

export interface BatchColumnSpec {
  readonly name: string;
  readonly type: BatchColumnType;
}

/** One column of a batch, columnar. */
export type BatchColumnData =
  | { readonly type: "double"; readonly values: Float64Array }
  | { readonly type: "integer"; readonly values: Int32Array }
  | { readonly type: "varchar"; readonly values: ReadonlyArray<string | null> }
  | ListColumnData<"usmallint_list", Uint16Array>
  | ListColumnData<"ubigint_list" | "double_list", Float64Array>;

/**
 * One column of a batch for `Connection.appender`, which converts it to the
 * table column's type:
 * - `double` (NaN is NULL) into DOUBLE, BIGINT and INTEGER (rounded half away
 *   from zero; a value beyond the column's range is NULL, so one absurd figure
 *   cannot block every later write), BOOLEAN (non-zero is true) or TIMESTAMP
 *   (the numbers are epoch milliseconds);
 * - `integer` into INTEGER;
 * - `varchar` and `symbols` into VARCHAR (or JSON): `symbols` is dictionary
 *   coded, row `i` being `symbols[codes[i] - 1]` (code 0 is NULL), and costs
 *   one native call per distinct value per data chunk instead of one per row;
 * - the list kinds into lists of the item type, `varchar_list` into VARCHAR[].
 */
export type AppendColumnData =
  | BatchColumnData
  | { readonly type: "symbols"; readonly codes: Int32Array; readonly symbols: readonly string[] }
  | ListColumnData<"varchar_list", ReadonlyArray<string>>;

/** A batch of rows for `Connection.appender`, one entry per table column, in the table's order. */
export interface AppendBatch {
  readonly rows: number;
  readonly columns: readonly AppendColumnData[];
}

/** Appends column batches to one table (see `Connection.appender`). */
export interface TableAppender {
  /** The table's column names, in order: the order `append` expects. */
  readonly columns: readonly string[];
  /**
   * Appends and flushes `batch` in the connection's current transaction. On
   * failure nothing of the batch stays buffered in the appender; what it
   * already flushed is undone by rolling the transaction back.
   */
  append(batch: AppendBatch): void;
  close(): void;
}

/**
 * A list column, flat: row `i`'s items are `values[offsets[i] .. offsets[i + 1])`
 * (`offsets` has one more entry than there are rows; no NULL lists).
 * `ubigint_list` items must be whole numbers in [0, 2^53).
 */
export interface ListColumnData<T extends string, A> {
  readonly type: T;
  readonly offsets: Uint32Array;
  readonly values: A;
}

/** A batch of rows, columnar. */
export interface ColumnBatch {
  readonly rows: number;
  readonly columns: readonly BatchColumnData[];
}

/** The handle of a registered batch source: the batch its next scan reads. */
export interface BatchSource {
  /** Stages `batch` for `name()`, replacing the one before (`undefined` empties it). */
  set(batch: ColumnBatch | undefined): Promise<void>;
}

export interface ResultColumn {
  readonly name: string;
  readonly type: string;
}

export interface QueryResult {
  readonly columns: readonly ResultColumn[];
  readonly rows: SqlRow[];
  /** True when more rows existed than `maxRows`. */
  readonly truncated: boolean;
}

/** A connection. Statements on one connection run one at a time. */
export interface Connection {
  /** Runs SQL (one or more statements) and discards any result. */
  run(sql: string, params?: SqlParams): Promise<void>;
  /** Runs one query and returns its rows. */
  query(sql: string, params?: SqlParams, options?: { maxRows?: number }): Promise<QueryResult>;
  /** Shorthand for `query(...).rows`. */
  all(sql: string, params?: SqlParams): Promise<SqlRow[]>;
  /** The statement types (`SELECT`, `INSERT`, `CREATE`, …) of the statements in `sql`, without running them. */
  statementTypes(sql: string): Promise<string[]>;
  /**
   * Registers a table macro `name()` producing `columns`; its rows are the
   * batch most recently given to the returned `set` (cleared by `set(undefined)`).
   */
  registerBatchSource(name: string, columns: readonly BatchColumnSpec[]): BatchSource;
  /**
   * An appender for `table` (in schema `main`) that takes whole column batches:
   * each 2048-row data chunk is filled by memory copies in the table's own
   * column types and appended, with no SQL statement per batch.
   */
  appender(table: string): Promise<TableAppender>;
  /** Interrupts the statement running on this connection, if any. */
  interrupt(): void;
  close(): void;
}

export interface Database {
  readonly path: string;
  readonly readOnly: boolean;
  connect(): Promise<Connection>;
  close(): void;
}

/** Opens (creating if needed, unless read-only) a DuckDB database file, or `:memory:`. */
export async function openDuckDB(path: string, options: DuckDBOpenOptions = {}): Promise<Database> {
  const config: Record<string, string> = {
    enable_external_access: options.externalAccess ? "true" : "false",
    // Extensions are never installed or loaded from disk: parquet, json and
    // icu are built in.
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
  };
  if (options.readOnly) config.access_mode = "READ_ONLY";
  const instance = await DuckDBInstance.create(path, config);
  const connections = new Set<Connection>();
  return {
    path,
    readOnly: options.readOnly === true,
    async connect() {
      const c = wrap(await instance.connect(), () => connections.delete(c));
      connections.add(c);
      return c;
    },
    close() {
      for (const c of [...connections]) c.close();
      instance.closeSync();
    },
  };
}

function wrap(conn: DuckDBConnection, onClose: () => void): Connection {
  let closed = false;
  const self: Connection = {
    async run(sql, params) {
      if (params === undefined) await conn.run(sql);
      else {
        const [values, types] = bind(params);
        await conn.run(sql, values, types);
      }
    },
    async query(sql, params, options = {}) {
      const max = options.maxRows ?? Number.POSITIVE_INFINITY;
      const [values, types] = params === undefined ? [undefined, undefined] : bind(params);
      const reader = Number.isFinite(max)
        ? await conn.runAndReadUntil(sql, max + 1, values, types)
        : await conn.runAndReadAll(sql, values, types);
      const names = reader.columnNames();
      const typeNames = reader.columnTypes().map((t) => t.toString());
      // Column-major conversion is several times faster than row objects for
      // large results; each column gets the converter its type needs.
      const columns = reader.getColumnsJS();
      const converters = typeNames.map(converterFor);
      const count = reader.currentRowCount;
      const truncated = count > max;
      const n = truncated ? max : count;
      const rows: SqlRow[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const row: SqlRow = {};
        for (let c = 0; c < names.length; c++) row[names[c]] = converters[c](columns[c][i]);
        rows[i] = row;
      }
      return { columns: names.map((name, i) => ({ name, type: typeNames[i] })), rows, truncated };
    },
    async all(sql, params) {
      return (await self.query(sql, params)).rows;
    },
    async statementTypes(sql) {
      const extracted = await conn.extractStatements(sql);
      const out: string[] = [];
      for (let i = 0; i < extracted.count; i++) {
        const prepared = await extracted.prepare(i);
        out.push(StatementType[prepared.statementType] ?? `UNKNOWN(${prepared.statementType})`);
        prepared.destroySync();
      }
      return out;
    },
    registerBatchSource(name, columns) {
      // The batch is appended on this thread, one data chunk at a time, into a
      // temporary table that `name()` reads. (A table function scanned by
      // DuckDB's threads called back into JS, and while the event loop was
      // busy with a pipeline those threads spun waiting for it: +20% of a
      // core for a few rows every 100 ms, measured, against nothing this way.)
      const table = `${name}_rows`;
      const types = columns.map((c) => duckType(c.type));
      let appender: DuckDBAppender | undefined;
      let staged = 0;
      const setup = async (): Promise<DuckDBAppender> => {
        const cols = columns.map((c, k) => `"${c.name}" ${types[k].toString()}`).join(", ");
        await conn.run(
          `CREATE TEMP TABLE IF NOT EXISTS "${table}" (${cols}); CREATE OR REPLACE TEMP MACRO ${name}() AS TABLE SELECT * FROM temp.main."${table}"`,
        );
        return conn.createAppender(table, "main", "temp");
      };
      const scratch = newScratch();
      return {
        async set(batch) {
          try {
            appender ??= await setup();
            if (staged > 0) {
              await conn.run(`DELETE FROM temp.main."${table}"`);
              staged = 0;
            }
            if (!batch || batch.rows === 0) return;
            // Every chunk is filled (and its values checked) before any is
            // appended, so a bad batch leaves nothing behind in the appender.
            const chunks: DuckDBDataChunk[] = [];
            for (let from = 0; from < batch.rows; from += CHUNK) {
              const n = Math.min(CHUNK, batch.rows - from);
              const chunk = DuckDBDataChunk.create(types, n);
              for (let c = 0; c < columns.length; c++) {
                fillVector(duckdb.data_chunk_get_vector(chunk.chunk, c), batch.columns[c], from, n, scratch);
              }
              chunks.push(chunk);
            }
            for (const chunk of chunks) appender.appendDataChunk(chunk);
            appender.flushSync();
            staged = batch.rows;
          } catch (e) {
            // Start over on the next call: a new appender (the table is created
            // again if a rolled-back transaction took it) and a DELETE first,
            // whatever this attempt left staged.
            try {
              appender?.closeSync();
            } catch {
              // its unflushed rows are dropped with it
            }
            appender = undefined;
            staged = 1;
            throw e;
          }
        },
      };
    },
    async appender(table) {
      const names = (
        await self.all(
          "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = $t ORDER BY column_index",
          { t: table },
        )
      ).map((r) => String(r.column_name));
      if (names.length === 0) throw new Error(`no table main.${table} to append to`);
      const app = await conn.createAppender(table);
      const types: DuckDBType[] = [];
      for (let c = 0; c < app.columnCount; c++) types.push(app.columnType(c));
      const targets = types.map((t, c) => targetOf(t, `${table}.${names[c]}`));
      const scratch = newScratch();
      return {
        columns: names,
        append(batch) {
          if (batch.columns.length !== types.length)
            throw new RangeError(`${table}: a batch of ${batch.columns.length} columns for ${types.length}`);
          try {
            for (let from = 0; from < batch.rows; from += CHUNK) {
              const n = Math.min(CHUNK, batch.rows - from);
              const chunk = DuckDBDataChunk.create(types, n);
              for (let c = 0; c < types.length; c++) {
                const vec = duckdb.data_chunk_get_vector(chunk.chunk, c);
                fillTarget(vec, targets[c], batch.columns[c], from, n, scratch, names[c]);
              }
              app.appendDataChunk(chunk);
            }
            app.flushSync();
          } catch (e) {
            try {
              app.clear();
            } catch {
              // nothing buffered
            }
            throw e;
          }
        },
        close() {
          try {
            app.clear();
            app.closeSync();
          } catch {
            // the connection is closing
          }
        },
      };
    },
    interrupt() {
      if (!closed) conn.interrupt();
    },
    close() {
      if (closed) return;
      closed = true;
      conn.closeSync();
      onClose();
    },
  };
  return self;
}

/** Up to how many rows one data chunk holds (DuckDB's vector size). */
const CHUNK = 2048;

/**
 * Per-thread scratch for one chunk: list entries (offset, length as two
 * 32-bit halves of each u64), a validity mask, and u64 list items.
 */
interface Scratch {
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

const newScratch = (): Scratch => ({
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
function copyRows(vec: Vector, a: Float64Array | Int32Array | Uint16Array, from: number, n: number): void {
  const size = a.BYTES_PER_ELEMENT;
  duckdb.copy_data_to_vector(vec, 0, a.buffer as ArrayBuffer, a.byteOffset + from * size, n * size);
}

/** Writes a validity mask (bit set = valid) for the first `n` rows. */
function copyValidity(vec: Vector, mask: Uint32Array, n: number): void {
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

/**
 * Fills one vector with rows `[from, from + n)` of a column: fixed-width
 * columns and list items as one memory copy each, NULLs as one validity copy
 * (only when the slice has any), strings one native call per row.
 */
function fillVector(vec: Vector, data: BatchColumnData, from: number, n: number, scratch: Scratch): void {
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
type Target =
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

function targetOf(t: DuckDBType, where: string): Target {
  const target =
    t.typeId === DuckDBTypeId.LIST
      ? LIST_TARGETS.get((t as DuckDBListType).valueType.typeId)
      : SCALAR_TARGETS.get(t.typeId);
  if (!target) throw new TypeError(`${where}: columns of type ${t.toString()} cannot be appended in batches`);
  return target;
}

/** Marks row `i` NULL in a chunk's validity mask, starting the mask (all valid) on first use. */
function setNull(mask: Uint32Array | undefined, i: number, scratch: Scratch): Uint32Array {
  const m = mask ?? scratch.validity.fill(0xffffffff);
  m[i >>> 5] &= ~(1 << (i & 31));
  return m;
}

/** Writes a validity mask from the NaNs among `v[from, from + n)`, if there are any. */
function nanValidity(vec: Vector, v: Float64Array, from: number, n: number, scratch: Scratch): void {
  let mask: Uint32Array | undefined;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(v[from + i])) {
      mask = setNull(mask, i, scratch);
    }
  }
  if (mask) copyValidity(vec, mask, n);
}

/** 2^63: BIGINT and TIMESTAMP values must be below it in magnitude. */
const I64_LIMIT = 2 ** 63;

/** Rounds half away from zero, as SQL's round does. */
const roundHalfAway = (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x));

/** Fills one vector of a table-typed chunk with rows `[from, from + n)` of a column. */
function fillTarget(
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

/**
 * Writes the list entries of rows `[from, from + n)` of flat `offsets`, sizes
 * the child vector for their items, and returns it with where the items start
 * in the flat values and how many there are.
 */
function startList(
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
function writeListEntries(vec: Vector, off: Uint32Array, from: number, n: number, scratch: Scratch): void {
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
function fillSymbols(
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
      if (s === undefined) throw new RangeError(`symbol code ${code} is not in a list of ${symbols.length}`);
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
function repeatsOften(v: ReadonlyArray<string | null>, from: number, n: number): boolean {
  const m = Math.min(n, 64);
  let repeats = 0;
  for (let i = 1; i < m; i++) {
    const x = v[from + i];
    if (x !== null && x !== undefined && x === v[from + i - 1]) repeats++;
  }
  return m > 1 && repeats * 4 >= m;
}

function duckType(t: BatchColumnType): DuckDBType {
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

function bind(
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
function converterFor(type: string): (v: unknown) => SqlValue {
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
function toSql(v: unknown): SqlValue {
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
