/**
 * @module The embedded DuckDB client (`@duckdb/node-api`, which runs on Node,
 * Bun and Deno) behind a small surface: open a database, run SQL with bound
 * parameters, read results as JSON-able rows, and bulk-insert columnar batches.
 *
 * Bulk inserts go through a table function registered on the connection:
 * `INSERT INTO t SELECT … FROM <batch>()` pulls 2048-row data chunks that are
 * filled column by column from typed arrays. The statement runs on DuckDB's
 * threads (the event loop only fills vectors, and with two scanning threads
 * DuckDB appends one chunk while the next is filled), SQL can cast and derive
 * columns on the way in, and only the public client API is used (Deno refuses
 * deep imports of `@duckdb/node-bindings`). Measured against the row-by-row
 * Appender in `benchmarks/metrics.bench.ts`.
 *
 * Only this file imports the client, so the rest of the engine never sees its
 * value classes (bigint, `DuckDBTimestampValue`, …): results come back as
 * numbers, strings, ISO timestamps, arrays and plain objects.
 */
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBConnection,
  DuckDBInstance,
  DuckDBTableFunction,
  type DuckDBType,
  type DuckDBValue,
  INTEGER,
  LIST,
  listValue,
  StatementType,
  USMALLINT,
  VARCHAR,
} from "@duckdb/node-api";

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
export type BatchColumnType = "double" | "integer" | "varchar" | "usmallint_list" | "double_list";

export interface BatchColumnSpec {
  readonly name: string;
  readonly type: BatchColumnType;
}

/** One column of a batch, columnar. */
export type BatchColumnData =
  | { readonly type: "double"; readonly values: Float64Array }
  | { readonly type: "integer"; readonly values: Int32Array }
  | { readonly type: "varchar"; readonly values: ReadonlyArray<string | null> }
  | {
      readonly type: "usmallint_list" | "double_list";
      readonly values: ReadonlyArray<readonly number[] | null>;
    };

/** A batch of rows, columnar. */
export interface ColumnBatch {
  readonly rows: number;
  readonly columns: readonly BatchColumnData[];
}

/** The handle of a registered batch source: the batch its next scan reads. */
export interface BatchSource {
  set(batch: ColumnBatch | undefined): void;
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
   * Registers a table function `name()` producing `columns`; its rows come from
   * the batch most recently given to the returned `set` (cleared by `set(undefined)`).
   */
  registerBatchSource(name: string, columns: readonly BatchColumnSpec[]): BatchSource;
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
      let current: ColumnBatch | undefined;
      const types = columns.map((c) => duckType(c.type));
      conn.registerTableFunction(
        DuckDBTableFunction.create({
          name,
          parameterTypes: [],
          bindFunction: (info) => {
            for (let i = 0; i < columns.length; i++) info.addResultColumn(columns[i].name, types[i]);
          },
          initFunction: (info) => {
            info.setInitData({ next: 0 });
            // Two scanning threads: DuckDB appends one chunk while the event
            // loop fills the next (the callbacks themselves run one at a time).
            if ((current?.rows ?? 0) > 2048) info.setMaxThreads(2);
          },
          localInitFunction: (info) => {
            info.setInitData({});
          },
          mainFunction: (info, output) => {
            const state = info.initData as { next: number };
            const batch = current;
            const n = batch ? Math.min(2048, batch.rows - state.next) : 0;
            output.rowCount = n;
            if (!batch || n <= 0) return;
            for (let c = 0; c < columns.length; c++) {
              fillVector(output.getColumnVector(c), batch.columns[c], state.next, n);
            }
            state.next += n;
          },
        }),
      );
      return {
        set(batch) {
          current = batch;
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

interface WritableVector {
  setItem(index: number, value: DuckDBValue): void;
  flush(): void;
}

function fillVector(vector: WritableVector, data: BatchColumnData, from: number, n: number): void {
  switch (data.type) {
    case "double": {
      const v = data.values;
      for (let i = 0; i < n; i++) {
        const x = v[from + i];
        vector.setItem(i, Number.isNaN(x) ? null : x);
      }
      break;
    }
    case "integer": {
      const v = data.values;
      for (let i = 0; i < n; i++) vector.setItem(i, v[from + i]);
      break;
    }
    case "varchar": {
      const v = data.values;
      for (let i = 0; i < n; i++) vector.setItem(i, v[from + i] ?? null);
      break;
    }
    default: {
      const v = data.values;
      for (let i = 0; i < n; i++) {
        const items = v[from + i];
        vector.setItem(i, items ? listValue(items) : null);
      }
    }
  }
  vector.flush();
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
