/**
 * @module The store's write-side SQL other than ingest: preparing the schema
 * when a writer opens the file (tables, migrations, version, views),
 * recording benchmark results, and pruning old runs. Each runs on the write
 * connection under the store's write lock (the store takes it).
 */
import type { Connection } from "../../duckdb/client.ts";
import type { BenchResult } from "../baselines.ts";
import { MetricsSchemaError } from "../errors.ts";
import {
  JOURNAL_MARKS,
  migrationDdl,
  PRUNED_SEGMENT,
  RUN_TABLES,
  SCHEMA_VERSION,
  tableDdl,
  viewDdl,
} from "./schema.ts";

export interface PruneResult {
  readonly runs: readonly string[];
  readonly rows: number;
}

/** The file's schema version (undefined for a new file); throws for a newer sluice's file. */
export async function checkSchema(conn: Connection, path: string): Promise<number | undefined> {
  const tables = await conn.all(
    "SELECT 1 FROM duckdb_tables() WHERE table_name = 'meta' AND schema_name = 'main'",
  );
  if (tables.length === 0) return undefined;
  const rows = await conn.all("SELECT value FROM meta WHERE key = 'schema_version'");
  if (rows.length === 0) return undefined;
  const version = Number(rows[0].value);
  if (version > SCHEMA_VERSION) throw new MetricsSchemaError(path, version, SCHEMA_VERSION);
  return version;
}

/** Creates what is missing (tables, columns added since, views) and records the schema version. */
export async function prepareSchema(w: Connection, path: string): Promise<void> {
  const version = await checkSchema(w, path);
  await w.run(tableDdl());
  const existing = new Map<string, Set<string>>();
  for (const r of await w.all(
    "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main'",
  )) {
    const t = String(r.table_name);
    if (!existing.has(t)) existing.set(t, new Set());
    existing.get(t)?.add(String(r.column_name));
  }
  for (const sql of migrationDdl(existing)) await w.run(sql);
  if (version !== SCHEMA_VERSION) {
    await w.run("DELETE FROM meta WHERE key = 'schema_version'");
    await w.run(`INSERT INTO meta VALUES ('schema_version', '${SCHEMA_VERSION}')`);
  }
  await w.run(viewDdl());
}

async function inTransaction<T>(conn: Connection, fn: () => Promise<T>): Promise<T> {
  await conn.run("BEGIN TRANSACTION");
  try {
    const out = await fn();
    await conn.run("COMMIT");
    return out;
  } catch (e) {
    await conn.run("ROLLBACK").catch(() => {});
    throw e;
  }
}

/** One benchmark scenario's results, one row per metric, in one transaction. */
export function insertBenchResult(conn: Connection, result: BenchResult): Promise<void> {
  return inTransaction(conn, async () => {
    for (const [metric, m] of Object.entries(result.metrics)) {
      await conn.run(
        `INSERT INTO bench_results VALUES ($scenario, $run, make_timestamp(CAST(round($ts * 1000) AS BIGINT)),
         $runtime, $host, $metric, $value, $unit, $better, CAST($tags AS JSON))`,
        {
          scenario: result.scenario,
          run: result.runId ?? null,
          ts: result.ts,
          runtime: result.runtime,
          host: result.host ?? null,
          metric,
          value: m.value,
          unit: m.unit ?? null,
          better: m.better,
          tags: result.tags ? JSON.stringify(result.tags) : null,
        },
      );
    }
  });
}

/**
 * Deletes the runs whose last event is before `cutoffUs` (µs since epoch)
 * from every run table, and older benchmark results, in one transaction.
 * Their catch-up marks stay, set to "pruned": the catch-up does not load them
 * again, unless the run is resumed, when it loads the whole run again.
 */
export async function pruneRuns(conn: Connection, cutoffUs: number): Promise<PruneResult> {
  const old = await conn.all(
    "SELECT run_id FROM ingest_marks WHERE ts < make_timestamp($cutoff) ORDER BY run_id",
    { cutoff: cutoffUs },
  );
  const runs = old.map((r) => String(r.run_id));
  let rows = 0;
  await inTransaction(conn, async () => {
    if (runs.length > 0) {
      for (const t of RUN_TABLES) {
        // DuckDB answers a DELETE with one row: the number of rows deleted.
        const [r] = await conn.all(`DELETE FROM ${t} WHERE run_id IN (SELECT unnest($runs))`, { runs });
        rows += Number(r?.Count ?? 0);
      }
      const marks = await conn.all(
        `SELECT 1 FROM duckdb_tables() WHERE table_name = '${JOURNAL_MARKS}' AND schema_name = 'main'`,
      );
      if (marks.length > 0)
        await conn.run(
          `UPDATE ${JOURNAL_MARKS} SET segment = ${PRUNED_SEGMENT}, "offset" = 0, seq = 0 WHERE run_id IN (SELECT unnest($runs))`,
          { runs },
        );
    }
    await conn.run("DELETE FROM bench_results WHERE ts < make_timestamp($cutoff)", { cutoff: cutoffUs });
  });
  return { runs, rows };
}
