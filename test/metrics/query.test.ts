/**
 * User SQL (`store.query`) is read-only: one SELECT at a time, in a READ ONLY
 * transaction, with file access disabled — on the writer's own instance too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MetricsQueryError } from "../../src/metrics/errors.ts";
import { type MetricsStore, openMetricsStore } from "../../src/metrics/store.ts";
import { systemClock } from "../../src/runtime/clock.ts";
import { runEvents, tempHome } from "./fixtures.ts";

const home = tempHome("query");
let store: MetricsStore;

beforeAll(async () => {
  store = await openMetricsStore(home.dir, { flushIntervalMs: 3_600_000, clock: systemClock });
  await store.ingest(runEvents("run-q", 30));
});
afterAll(async () => {
  await store?.close();
  home.cleanup();
});

async function refused(sql: string): Promise<string> {
  const e = await store.query(sql).catch((x: unknown) => x);
  expect(e, sql).toBeInstanceOf(MetricsQueryError);
  return (e as Error).message;
}

describe("store.query", () => {
  it("runs SELECT, WITH, FROM, DESCRIBE and SHOW, with $named parameters", async () => {
    expect(
      (await store.query("SELECT count(*) AS n FROM runs WHERE run_id = $r", { r: "run-q" })).rows,
    ).toEqual([{ n: 1 }]);
    expect((await store.query("WITH x AS (SELECT 1 AS a) SELECT a FROM x")).rows).toEqual([{ a: 1 }]);
    expect((await store.query("FROM runs SELECT status")).rows).toEqual([{ status: "completed" }]);
    expect((await store.query("DESCRIBE runs")).rows.length).toBeGreaterThan(5);
    expect((await store.query("SHOW TABLES")).rows.map((r) => r.name)).toContain("stage_progress");
    expect((await store.query("EXPLAIN SELECT * FROM stage_metrics")).rows.length).toBeGreaterThan(0);
    expect((await store.query("EXPLAIN ANALYZE SELECT count(*) FROM runs")).rows.length).toBeGreaterThan(0);
  });

  it("returns column names and types, caps rows and says so", async () => {
    const r = await store.query("SELECT range AS i FROM range(50)", undefined, { maxRows: 10 });
    expect(r.rows).toHaveLength(10);
    expect(r.truncated).toBe(true);
    expect(r.columns).toEqual([{ name: "i", type: "BIGINT" }]);
    const ts = await store.query(
      "SELECT TIMESTAMP '2026-01-01 00:00:00.25' AS t, 2::HUGEINT AS h, [1, 2] AS l",
    );
    expect(ts.rows).toEqual([{ t: "2026-01-01T00:00:00.250Z", h: 2, l: [1, 2] }]);
  });

  it("refuses every statement that is not a SELECT", async () => {
    for (const sql of [
      "INSERT INTO meta VALUES ('a', 'b')",
      "DELETE FROM stage_progress",
      "UPDATE meta SET value = 'x'",
      "DROP TABLE stage_progress",
      "CREATE TABLE t (a INT)",
      "CREATE OR REPLACE VIEW runs AS SELECT 1",
      "ALTER TABLE meta ADD COLUMN c INT",
      "COPY stage_progress TO '/tmp/x.csv'",
      "EXPORT DATABASE '/tmp/x'",
      "ATTACH '/tmp/other.duckdb' AS o",
      "SET threads = 1",
      "PRAGMA enable_profiling",
      "CHECKPOINT",
      "CALL checkpoint()",
      "INSTALL httpfs",
      "LOAD parquet",
      "BEGIN TRANSACTION",
      "VACUUM",
      "EXPLAIN DELETE FROM stage_progress",
    ]) {
      expect(await refused(sql)).toMatch(/not allowed|Parser Error|Permission Error/);
    }
  });

  it("refuses more than one statement", async () => {
    expect(await refused("SELECT 1; DELETE FROM stage_progress")).toContain("exactly one statement");
  });

  it("an empty query is refused as empty (not DuckDB's native-callback error)", async () => {
    for (const sql of ["", "   ", ";", " ;\n; ", "/* nothing */", "-- c\n;"])
      expect(await refused(sql)).toContain("the query is empty");
  });

  it("a SELECT cannot write, read or write files", async () => {
    await refused("SELECT * FROM read_csv('/etc/passwd')");
    await refused("SELECT * FROM read_parquet('/tmp/*.parquet')");
    await refused("SELECT * FROM glob('/*')");
    for (const sql of [
      "SELECT * FROM checkpoint()",
      'SELECT * FROM "Force_Checkpoint"()',
      "SELECT (SELECT count(*) FROM enable_logging())",
      "WITH x AS (SELECT * FROM truncate_duckdb_logs()) SELECT * FROM x",
      "SELECT * FROM query('SELECT * FROM checkpoint()')",
      "PRAGMA version",
      "EXPLAIN ANALYZE SELECT * FROM checkpoint()",
    ]) {
      expect(await refused(sql)).toMatch(/not allowed|cannot be checked/);
    }
    // Nothing changed.
    expect((await store.query("SELECT count(*) AS n FROM stage_progress")).rows).toEqual([{ n: 90 }]);
  });

  it("interrupts a statement that runs past timeoutMs", async () => {
    const e = await store
      .query("SELECT count(*) FROM range(100000000) a, range(100000000) b", undefined, { timeoutMs: 50 })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MetricsQueryError);
    expect((e as Error).message).toContain("timeoutMs");
    // The connection is usable afterwards.
    expect((await store.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });
});
