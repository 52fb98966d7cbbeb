/**
 * The DuckDB table sink: schema inference and given columns, values that do
 * not fit going to the dead letter, one transaction per checkpoint recorded
 * in `_sluice_commits`, and the rollback on resume of rows a checkpoint
 * committed that never reached the journal.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, describe, expect, it } from "vitest";
import type { EventInput } from "../../src/events/schema.ts";
import { makeChunk, pipeline, runPipeline, systemClock } from "../../src/index.ts";
import type { DeadLetterInput, SinkContext } from "../../src/pipeline/types.ts";
import { duckdb } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-duckdb-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dbPath = () => join(root, `t${++n}.duckdb`);

async function query(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(path, { access_mode: "READ_ONLY" });
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

function context(runId: string, resumeToken?: unknown) {
  const dead: DeadLetterInput[] = [];
  const logs: EventInput[] = [];
  const ctx: SinkContext = {
    runId,
    pipeline: "p",
    clock: systemClock,
    runDir: root,
    home: root,
    signal: new AbortController().signal,
    emit: (e) => logs.push(e),
    stage: "sink",
    index: 1,
    onError: "dead-letter",
    deadLetter: (d) => dead.push(d),
    reportBusy: () => {},
    reportChunk: () => {},
    reportCpu: () => {},
    offerKnob: () => {},
    resumeToken,
  };
  return { ctx, dead, logs };
}

const chunk = <A>(records: A[], seq = 0) => makeChunk(records, { seq });

describe("duckdb sink", () => {
  it("infers columns from the first chunk and round-trips values", async () => {
    const path = dbPath();
    const rows = [
      { id: 1, name: "a", ok: true, at: new Date("2026-01-02T03:04:05Z"), tags: ["x"], big: 10n },
      { id: 2.5, name: "b", ok: false, at: new Date("2026-01-03T00:00:00Z"), tags: { k: 1 }, big: 11n },
      { id: 3, name: null, ok: true, at: null, tags: null, big: null },
    ];
    const s = await runPipeline(
      pipeline("infer")
        .from(iterable(rows))
        .to(duckdb({ table: "things", path })),
      { home: root },
    );
    expect(s.status, s.error?.message).toBe("completed");
    const cols = await query(
      path,
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'things' ORDER BY ordinal_position",
    );
    expect(cols.map((c) => `${c.column_name} ${c.data_type}`)).toEqual([
      "id DOUBLE",
      "name VARCHAR",
      "ok BOOLEAN",
      "at TIMESTAMP",
      "tags JSON",
      "big BIGINT",
      "_sluice_run VARCHAR",
      "_sluice_row BIGINT",
    ]);
    const got = await query(
      path,
      `SELECT id, name, ok, strftime("at", '%Y-%m-%dT%H:%M:%S') AS "at", tags, big, _sluice_row FROM things ORDER BY _sluice_row`,
    );
    expect(got).toEqual([
      { id: 1, name: "a", ok: true, at: "2026-01-02T03:04:05", tags: '["x"]', big: "10", _sluice_row: "0" },
      {
        id: 2.5,
        name: "b",
        ok: false,
        at: "2026-01-03T00:00:00",
        tags: '{"k":1}',
        big: "11",
        _sluice_row: "1",
      },
      { id: 3, name: null, ok: true, at: null, tags: null, big: null, _sluice_row: "2" },
    ]);
    const commits = await query(path, "SELECT run_id, checkpoint_id, rows FROM _sluice_commits");
    expect(commits).toEqual([{ run_id: s.runId, checkpoint_id: "1", rows: "3" }]);
  });

  it("sends records whose values do not fit the given columns to the dead letter, and counts reconcile", async () => {
    const path = dbPath();
    const s = await runPipeline(
      pipeline("typed")
        .from(iterable([{ a: 1, b: "x" }, { a: "oops", b: "y" }, { a: 3 }]))
        .to(duckdb({ table: "t", path, columns: { a: "BIGINT", b: "VARCHAR" } })),
      { home: root },
    );
    expect(s.status, s.error?.message).toBe("completed");
    expect(s.deadLettered).toBe(1);
    expect(s.rowsOut).toBe(2);
    expect(s.rowsIn).toBe(s.rowsOut + s.filtered + s.deadLettered);
    expect(await query(path, "SELECT a, b FROM t ORDER BY _sluice_row")).toEqual([
      { a: "1", b: "x" },
      { a: "3", b: null },
    ]);
  });

  it("on resume, removes rows committed after the checkpoint it resumes from", async () => {
    const path = dbPath();
    const sink = duckdb<{ i: number }>({ table: "t", path });
    const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => ({ i: from + k }));

    // Attempt 1 commits checkpoints 1 and 2, then dies; only checkpoint 1 reached the journal.
    const a = await sink.open(context("run-1").ctx);
    await a.write(chunk(rows(0, 5000)));
    const token1 = await a.commit(1);
    await a.write(chunk(rows(5000, 7000)));
    await a.commit(2);
    await a.write(chunk(rows(7000, 7500))); // never committed
    await a.abort?.();
    expect(await query(path, "SELECT count(*) AS n FROM t")).toEqual([{ n: "7000" }]);

    // Attempt 2 resumes from checkpoint 1.
    const b = context("run-1", token1);
    const w = await sink.open(b.ctx);
    expect(await query(path, "SELECT count(*) AS n, max(_sluice_row) AS hi FROM t")).toEqual([
      { n: "5000", hi: "4999" },
    ]);
    expect(await query(path, "SELECT checkpoint_id FROM _sluice_commits")).toEqual([{ checkpoint_id: "1" }]);
    expect(b.logs).toEqual([
      expect.objectContaining({
        kind: "log",
        message: expect.stringContaining("removed 2000 rows of run run-1 committed after checkpoint 1"),
      }),
    ]);
    await w.write(chunk(rows(5000, 9000)));
    await w.commit(2);
    await w.close();
    const got = await query(
      path,
      "SELECT min(i) AS lo, max(i) AS hi, count(*) AS n, count(DISTINCT _sluice_row) AS d, max(_sluice_row) AS r FROM t",
    );
    expect(got).toEqual([{ lo: 0, hi: 8999, n: "9000", d: "9000", r: "8999" }]);
  });

  it("keeps other runs' rows and refuses a table it did not create", async () => {
    const path = dbPath();
    const p = (table: string) =>
      pipeline("two")
        .from(iterable([{ x: 1 }, { x: 2 }]))
        .to(duckdb({ table, path }));
    const r1 = await runPipeline(p("t"), { home: root });
    const r2 = await runPipeline(p("t"), { home: root });
    expect(
      await query(path, "SELECT _sluice_run AS run, count(*) AS n FROM t GROUP BY 1 ORDER BY 1"),
    ).toEqual([
      { run: r1.runId, n: "2" },
      { run: r2.runId, n: "2" },
    ]);
    const db = await DuckDBInstance.create(path);
    const conn = await db.connect();
    await conn.run("CREATE TABLE plain (x DOUBLE)");
    conn.closeSync();
    db.closeSync();
    const r3 = await runPipeline(p("plain"), { home: root });
    expect(r3.status).toBe("failed");
    expect(r3.error?.message).toMatch(/the table exists but was not created by sluice/);
    expect(r3.error?.hint).toMatch(/ALTER TABLE/);
  });

  it("rejects bad options with a clear message", () => {
    expect(() => duckdb({ table: "1bad" })).toThrow(/table: letters, digits and _/);
    expect(() => duckdb({ table: "t", columns: { a: "DECIMAL" as "DOUBLE" } })).toThrow(/columns\.a/);
  });
});
