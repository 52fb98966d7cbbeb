/**
 * @module The DuckDB client's surface as the rest of the engine sees it: JSON-able values,
 * column batches for bulk inserts, results, connections and databases. No DuckDB class appears
 * here; `client.ts` implements these on `@duckdb/node-api`.
 */

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
