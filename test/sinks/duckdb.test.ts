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
    sideOutput: () => ({ write: () => {} }),
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
    const sink = duckdb<{ i: number }>({ table: "t", path, mode: "append" });
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

  it("in append mode keeps other runs' rows, and refuses a table it did not create", async () => {
    const path = dbPath();
    const p = (table: string) =>
      pipeline("two")
        .from(iterable([{ x: 1 }, { x: 2 }]))
        .to(duckdb({ table, path, mode: "append" }));
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

  it("replace (the default): a run swaps in exactly its rows when it completes; readers see the old table until then", async () => {
    const path = dbPath();
    const first = await runPipeline(
      pipeline("rep")
        .from(iterable([{ x: 1 }, { x: 2 }, { x: 3 }]))
        .to(duckdb({ table: "t", path })),
      { home: root },
    );
    expect(first.status, first.error?.message).toBe("completed");
    // The second run (a new run id, as after --fresh) writes through its staging table.
    const sink = duckdb<{ x: number; y: string }>({ table: "t", path });
    const w = await sink.open(context("run-2").ctx);
    await w.write(chunk([{ x: 10, y: "a" }]));
    await w.commit(1);
    expect(await query(path, "SELECT x FROM t ORDER BY _sluice_row")).toEqual([{ x: 1 }, { x: 2 }, { x: 3 }]);
    await w.write(chunk([{ x: 20, y: "b" }]));
    await w.commit(2);
    await w.close();
    expect(await query(path, "SELECT x, y, _sluice_run AS run FROM t ORDER BY _sluice_row")).toEqual([
      { x: 10, y: "a", run: "run-2" },
      { x: 20, y: "b", run: "run-2" },
    ]);
    const tables = await query(path, "SELECT table_name AS t FROM information_schema.tables ORDER BY 1");
    expect(tables).toEqual([{ t: "_sluice_commits" }, { t: "t" }]);
  });

  it("replace: a resumed run continues its staging table; a crash after the swap leaves nothing to redo", async () => {
    const path = dbPath();
    const sink = duckdb<{ i: number }>({ table: "t", path });
    const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => ({ i: from + k }));
    const old = await sink.open(context("run-0").ctx);
    await old.write(chunk(rows(0, 3)));
    await old.commit(1);
    await old.close();

    // Attempt 1 commits checkpoints 1 and 2, then dies; only checkpoint 1 reached the journal.
    const a = await sink.open(context("run-1").ctx);
    await a.write(chunk(rows(0, 5000)));
    const token1 = await a.commit(1);
    await a.write(chunk(rows(5000, 7000)));
    await a.commit(2);
    await a.abort?.();
    expect(await query(path, "SELECT count(*) AS n FROM t")).toEqual([{ n: "3" }]);

    const b = context("run-1", token1);
    const w = await sink.open(b.ctx);
    expect(b.logs).toEqual([
      expect.objectContaining({ message: expect.stringContaining("removed 2000 rows of run run-1") }),
    ]);
    await w.write(chunk(rows(5000, 9000)));
    const final = await w.commit(2);
    await w.close();
    const check = "SELECT count(*) AS n, count(DISTINCT i) AS d, max(i) AS hi, max(_sluice_row) AS r FROM t";
    expect(await query(path, check)).toEqual([{ n: "9000", d: "9000", hi: 8999, r: "8999" }]);

    // The swap committed but the run was not marked ended: resuming from the final checkpoint changes nothing.
    const again = await sink.open(context("run-1", final).ctx);
    expect(await again.commit(3)).toEqual({ checkpoint: 3, rows: 9000 });
    await again.close();
    expect(await query(path, check)).toEqual([{ n: "9000", d: "9000", hi: 8999, r: "8999" }]);
  });

  it("upsert: one row per key, the newest wins, across runs and within a chunk; a record without a key is dead-lettered", async () => {
    const path = dbPath();
    const run = (records: Array<{ id?: number | null; v: string }>) =>
      runPipeline(
        pipeline("ups")
          .from(iterable(records))
          .to(duckdb({ table: "t", path, mode: "upsert", key: "id" })),
        { home: root },
      );
    const r1 = await run([
      { id: 1, v: "a" },
      { id: 2, v: "b" },
      { id: 1, v: "c" },
    ]);
    expect(r1.status, r1.error?.message).toBe("completed");
    const r2 = await run([
      { id: 2, v: "d" },
      { id: 3, v: "e" },
      { id: null, v: "no key" },
    ]);
    expect(r2.status, r2.error?.message).toBe("completed");
    expect(r2.deadLettered).toBe(1);
    expect(r2.rowsIn).toBe(r2.rowsOut + r2.deadLettered);
    expect(await query(path, "SELECT id, v FROM t ORDER BY id")).toEqual([
      { id: 1, v: "c" },
      { id: 2, v: "d" },
      { id: 3, v: "e" },
    ]);
  });

  it("upsert: replaying from a checkpoint after a lost one ends as an uninterrupted run", async () => {
    const path = dbPath();
    const sink = duckdb<{ id: number; v: number }>({ table: "t", path, mode: "upsert", key: ["id"] });
    const rows = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) => ({ id: (from + k) % 700, v: from + k }));
    const a = await sink.open(context("run-1").ctx);
    await a.write(chunk(rows(0, 1000)));
    const token1 = await a.commit(1);
    await a.write(chunk(rows(1000, 1500)));
    await a.commit(2); // never journaled
    await a.abort?.();
    const b = await sink.open(context("run-1", token1).ctx);
    await b.write(chunk(rows(1000, 1200)));
    await b.commit(2);
    await b.write(chunk(rows(1200, 2000)));
    await b.commit(3);
    await b.close();
    const got = await query(path, "SELECT count(*) AS n, count(DISTINCT id) AS d, sum(v) AS s FROM t");
    // Uninterrupted: for each id 0..699 the last v in 0..1999 with v % 700 = id.
    let sum = 0;
    for (let id = 0; id < 700; id++) sum += id + 700 * Math.floor((1999 - id) / 700);
    expect(got).toEqual([{ n: "700", d: "700", s: sum }]);
    expect(await query(path, "SELECT checkpoint_id AS c FROM _sluice_commits ORDER BY 1")).toEqual([
      { c: "1" },
      { c: "2" },
      { c: "3" },
    ]);
  });

  it("rejects bad options with a clear message", () => {
    expect(() => duckdb({ table: "1bad" })).toThrow(/table: letters, digits and _/);
    expect(() => duckdb({ table: "t", columns: { a: "DECIMAL" as "DOUBLE" } })).toThrow(/columns\.a/);
    expect(() => duckdb({ table: "t", mode: "upsert" })).toThrow(/key: mode "upsert" needs a key/);
    expect(() => duckdb({ table: "t", key: "id" })).toThrow(/key is only used with mode "upsert"/);
    expect(() => duckdb({ table: "t", mode: "merge" as "append" })).toThrow(/mode/);
  });
});
