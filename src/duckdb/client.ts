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
 * Only src/duckdb/ imports the client, so the rest of the engine never sees its
 * value classes (bigint, `DuckDBTimestampValue`, …): results come back as
 * numbers, strings, ISO timestamps, arrays and plain objects.
 */
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBType,
  StatementType,
} from "@duckdb/node-api";
import duckdb from "@duckdb/node-bindings";
import { CHUNK, duckType, newScratch } from "./chunk-memory.ts";
import type { Connection, Database, DuckDBOpenOptions, SqlRow } from "./types.ts";
import { bind, converterFor } from "./values.ts";
import { fillTarget, fillVector, targetOf } from "./vectors.ts";

export type * from "./types.ts";

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
      // One data chunk, reset and refilled for every 2048 rows: the appender copies what it is
      // given. (A chunk per 2048 rows is freed only by its finalizer, after a GC the small JS
      // heap of a catch-up seldom needs.)
      let chunk: DuckDBDataChunk | undefined;
      return {
        columns: names,
        append(batch) {
          if (batch.columns.length !== types.length)
            throw new RangeError(`${table}: a batch of ${batch.columns.length} columns for ${types.length}`);
          try {
            for (let from = 0; from < batch.rows; from += CHUNK) {
              const n = Math.min(CHUNK, batch.rows - from);
              if (chunk) chunk.reset();
              else chunk = DuckDBDataChunk.create(types);
              chunk.rowCount = n;
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
