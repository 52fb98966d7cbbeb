/**
 * @module The DuckDB client as the table sink needs it: a database file, SQL
 * with bound parameters, the table's columns, and bulk appends through the
 * Appender in column-major data chunks of up to 2048 rows (DuckDB's vector
 * size; never row-by-row INSERT). `@duckdb/node-api` runs on Node, Bun and
 * Deno; only this file imports it, so the sink sees plain JavaScript values.
 *
 * The Appender writes into the connection's open transaction: rows appended
 * after `BEGIN` become visible, atomically with whatever else that
 * transaction did, at `COMMIT`, and vanish if the process dies first — the
 * property the sink's exactly-once commit rests on.
 *
 * (The metrics store has its own client in client.ts, for its separate file.)
 */
import type { DuckDBAppender, DuckDBConnection, DuckDBValue } from "@duckdb/node-api";

/** The client, loaded on first use: importing it costs ~0.3-0.8 s, which a pipeline without this sink should not pay. */
type Api = typeof import("@duckdb/node-api");
let loaded: Promise<Api> | undefined;
const load = (): Promise<Api> => {
  loaded ??= import("@duckdb/node-api");
  return loaded;
};

/** How a column's values are given to `append`. */
export type ValueKind = "boolean" | "integer" | "float" | "string" | "timestamp";

/**
 * A value as `append` takes it: boolean, integer (number or bigint), float,
 * string (VARCHAR and JSON), timestamp (ms since epoch); null is NULL.
 */
export type ColumnValue = boolean | number | bigint | string | null;

export interface TableColumn {
  readonly name: string;
  /** DuckDB's type name, e.g. `BIGINT`, `JSON`. */
  readonly sqlType: string;
  /** Undefined for types the sink cannot write. */
  readonly kind: ValueKind | undefined;
}

/** Parameters are bound positionally (`$1`, `$2`, ...). */
export type SqlParam = string | number | bigint | boolean | null;

export interface TableAppender {
  /** Appends `rows` rows; `columns` holds one array per table column, in table order. */
  append(columns: ReadonlyArray<ReadonlyArray<ColumnValue>>, rows: number): void;
  /** Hands buffered rows to the transaction. */
  flush(): void;
  close(): void;
}

export interface TableDatabase {
  readonly path: string;
  run(sql: string, params?: readonly SqlParam[]): Promise<void>;
  /** Rows as plain objects (BIGINT as number when safe, else string). */
  rows(sql: string, params?: readonly SqlParam[]): Promise<Array<Record<string, SqlParam>>>;
  /** The columns of `table` in order, or undefined when it does not exist. */
  columns(table: string): Promise<TableColumn[] | undefined>;
  appender(table: string): Promise<TableAppender>;
  close(): void;
}

function kindOf(api: Api, typeId: number): ValueKind | undefined {
  const T = api.DuckDBTypeId;
  switch (typeId) {
    case T.BOOLEAN:
      return "boolean";
    case T.TINYINT:
    case T.SMALLINT:
    case T.INTEGER:
    case T.BIGINT:
      return "integer";
    case T.FLOAT:
    case T.DOUBLE:
      return "float";
    case T.VARCHAR:
      return "string";
    case T.TIMESTAMP:
      return "timestamp";
    default:
      return undefined;
  }
}

/** Opens (creating if needed) a database file for the sink. */
export async function openTableDatabase(path: string): Promise<TableDatabase> {
  const api = await load();
  const instance = await api.DuckDBInstance.create(path, {
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
  });
  let conn: DuckDBConnection;
  try {
    conn = await instance.connect();
  } catch (e) {
    instance.closeSync();
    throw e;
  }
  const bind = (params?: readonly SqlParam[]) => params as DuckDBValue[] | undefined;
  const db: TableDatabase = {
    path,
    async run(sql, params) {
      await conn.run(sql, bind(params));
    },
    async rows(sql, params) {
      const reader = await conn.runAndReadAll(sql, bind(params));
      return reader.getRowObjectsJS().map((r) => {
        const o: Record<string, SqlParam> = {};
        for (const [k, v] of Object.entries(r)) o[k] = plain(v);
        return o;
      });
    },
    async columns(table) {
      const rows = await db.rows(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        [table],
      );
      if (rows.length === 0) return undefined;
      const app = await conn.createAppender(table);
      try {
        return rows.map((r, i) => ({
          name: String(r.column_name),
          sqlType: String(r.data_type),
          kind: kindOf(api, app.columnType(i).typeId),
        }));
      } finally {
        app.closeSync();
      }
    },
    async appender(table) {
      return wrapAppender(api, await conn.createAppender(table));
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
  return db;
}

function wrapAppender(api: Api, app: DuckDBAppender): TableAppender {
  const types = Array.from({ length: app.columnCount }, (_, i) => app.columnType(i));
  const converters = types.map((t) => convert(api, t.typeId));
  return {
    append(columns, rows) {
      for (let off = 0; off < rows; off += 2048) {
        const n = Math.min(2048, rows - off);
        const chunk = api.DuckDBDataChunk.create(types, n);
        for (let c = 0; c < types.length; c++) {
          const src = columns[c];
          const conv = converters[c];
          const values: DuckDBValue[] = new Array(n);
          for (let i = 0; i < n; i++) {
            const v = src[off + i];
            values[i] = v === null || v === undefined ? null : conv(v);
          }
          chunk.setColumnValues(c, values);
        }
        app.appendDataChunk(chunk);
      }
    },
    flush: () => app.flushSync(),
    close: () => app.closeSync(),
  };
}

function convert(api: Api, type: number): (v: Exclude<ColumnValue, null>) => DuckDBValue {
  const T = api.DuckDBTypeId;
  switch (type) {
    case T.BIGINT:
      return (v) => (typeof v === "bigint" ? v : BigInt(v as number));
    case T.TINYINT:
    case T.SMALLINT:
    case T.INTEGER:
    case T.FLOAT:
    case T.DOUBLE:
      return (v) => Number(v);
    case T.TIMESTAMP:
      return (v) => new api.DuckDBTimestampValue(BigInt(Math.round(Number(v) * 1000)));
    default:
      return (v) => v as DuckDBValue;
  }
}

function plain(v: unknown): SqlParam {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint")
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") return v;
  if (v instanceof Date) return v.toISOString();
  return String(v);
}
