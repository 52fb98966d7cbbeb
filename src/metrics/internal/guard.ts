/**
 * @module The read-only guard for user SQL (`sluice sql`, the HTTP API).
 * Three layers, each enough to stop a write on its own:
 *
 * 1. the text must be exactly one statement and DuckDB must classify it as
 *    SELECT (which includes `WITH … SELECT`, `FROM t`, DESCRIBE, SHOW and
 *    SUMMARIZE), and its syntax tree (`json_serialize_sql`) must not call a
 *    function with side effects (`checkpoint()`, `enable_logging()`, …) or
 *    run SQL hidden in a string (`query('…')`);
 * 2. it runs inside `BEGIN TRANSACTION READ ONLY`, so even a SELECT that
 *    would write (`nextval`) fails;
 * 3. the database was opened with `enable_external_access=false`, so SQL
 *    cannot read or write files, ATTACH other databases or load extensions
 *    (and a read-only open also sets `access_mode=READ_ONLY`).
 *
 * A dedicated connection runs user SQL one statement at a time, with a row cap
 * and an optional timeout that interrupts the statement.
 */

import type { Connection, QueryResult, SqlParams } from "../../duckdb/client.ts";
import type { Clock } from "../../runtime/clock.ts";
import { MetricsQueryError } from "../errors.ts";
import { Mutex } from "./mutex.ts";

export interface UserQueryOptions {
  /** Rows returned at most (default 10 000); `truncated` says when more existed. */
  readonly maxRows?: number;
  /** Interrupts the statement after this long (default: no limit). */
  readonly timeoutMs?: number;
}

export class GuardedQuery {
  readonly #lock = new Mutex();
  /** SQL texts that passed the checks (the API repeats its texts with new parameters). */
  readonly #approved = new Set<string>();

  constructor(
    private readonly conn: Connection,
    private readonly clock: Clock,
  ) {}

  run(sql: string, params?: SqlParams, options: UserQueryOptions = {}): Promise<QueryResult> {
    return this.#lock.run(async () => {
      if (!this.#approved.has(sql)) {
        await this.#check(sql);
        if (this.#approved.size >= 256) this.#approved.delete(this.#approved.values().next().value as string);
        this.#approved.add(sql);
      }
      return this.#execute(sql, params, options);
    });
  }

  /**
   * Closes the connection once the query in progress (and those queued) are done: a DuckDB
   * connection closed under a running query leaves that query's promise unsettled, and the
   * process alive, for good.
   */
  close(): Promise<void> {
    return this.#lock.run(async () => this.conn.close());
  }

  /** Throws `MetricsQueryError` unless `sql` is one read-only SELECT (or EXPLAIN of one). */
  async #check(sql: string): Promise<void> {
    if (/^[\s;]*$/.test(withoutComments(sql)))
      throw new MetricsQueryError(sql, "the query is empty: give one SELECT");
    let types: string[];
    try {
      types = await this.conn.statementTypes(sql);
    } catch (e) {
      throw new MetricsQueryError(sql, messageOf(e), e);
    }
    if (types.length !== 1) {
      throw new MetricsQueryError(
        sql,
        `expected exactly one statement, got ${types.length}; run statements one at a time`,
      );
    }
    let select = sql;
    if (types[0] === "EXPLAIN") {
      // EXPLAIN [ANALYZE] of a statement that passes the same checks is fine.
      const inner = /^\s*EXPLAIN\s+(?:ANALYZE\s+)?([\s\S]*)$/i.exec(sql)?.[1];
      const innerTypes = inner === undefined ? [] : await this.conn.statementTypes(inner).catch(() => []);
      if (inner !== undefined && innerTypes.length === 1 && innerTypes[0] === "SELECT") select = inner;
    }
    if (select === sql && types[0] !== "SELECT") {
      throw new MetricsQueryError(
        sql,
        `${types[0]} statements are not allowed: the metrics database is read-only here (SELECT, WITH, FROM, DESCRIBE, SHOW, SUMMARIZE and EXPLAIN of those are)`,
      );
    }
    const [ast] = await this.conn.all("SELECT json_serialize_sql(CAST($sql AS VARCHAR)) AS tree", {
      sql: select,
    });
    let tree: { error?: boolean; error_message?: string } | undefined;
    try {
      tree = JSON.parse(String(ast?.tree));
    } catch {
      tree = undefined;
    }
    if (!tree || tree.error) {
      throw new MetricsQueryError(
        sql,
        `this statement cannot be checked (${tree?.error_message ?? "no syntax tree"}); write it as a SELECT ` +
          "(PRAGMA table_info('t') is SELECT * FROM pragma_table_info('t'))",
      );
    }
    const denied = [...functionNames(tree, new Set())].filter((f) => DENIED_FUNCTIONS.has(f));
    if (denied.length > 0) {
      throw new MetricsQueryError(
        sql,
        `${denied.join(", ")}() is not allowed here: it changes state or runs hidden SQL`,
      );
    }
  }

  async #execute(
    sql: string,
    params: SqlParams | undefined,
    options: UserQueryOptions,
  ): Promise<QueryResult> {
    const stop = new AbortController();
    let timedOut = false;
    if (options.timeoutMs !== undefined && Number.isFinite(options.timeoutMs)) {
      this.clock.sleep(options.timeoutMs, stop.signal).then(
        () => {
          timedOut = true;
          this.conn.interrupt();
        },
        () => {},
      );
    }
    await this.conn.run("BEGIN TRANSACTION READ ONLY");
    try {
      return await this.conn.query(sql, params, { maxRows: options.maxRows ?? 10_000 });
    } catch (e) {
      const reason = timedOut ? `interrupted after ${options.timeoutMs} ms (timeoutMs)` : messageOf(e);
      throw new MetricsQueryError(sql, reason, e);
    } finally {
      stop.abort();
      await this.conn.run("ROLLBACK").catch(() => {});
    }
  }
}

/** Table and scalar functions a SELECT may not call: they change state or run SQL the checks cannot see. */
const DENIED_FUNCTIONS = new Set([
  "checkpoint",
  "force_checkpoint",
  "enable_logging",
  "disable_logging",
  "truncate_duckdb_logs",
  "enable_profiling",
  "disable_profiling",
  "enable_peg_parser",
  "disable_peg_parser",
  "json_execute_serialized_sql",
  "arrow_scan",
  "arrow_scan_dumb",
  "query",
]);

function functionNames(tree: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(tree)) for (const x of tree) functionNames(x, out);
  else if (tree !== null && typeof tree === "object") {
    for (const [k, v] of Object.entries(tree)) {
      if (k === "function_name" && typeof v === "string") out.add(v.toLowerCase());
      else functionNames(v, out);
    }
  }
  return out;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `sql` without its comments (for "is there a statement at all?": DuckDB answers none with a native-callback error). */
export function withoutComments(sql: string): string {
  return sql.replace(/--[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "");
}
