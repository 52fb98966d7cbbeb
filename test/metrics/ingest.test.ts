/**
 * Crash safety and ownership of the metrics file: re-ingesting a journal tail
 * is idempotent by (run_id, seq) — also after the writer was killed with
 * SIGKILL in the middle of a flush — and one writer owns the file.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { SluiceEvent } from "../../src/events/schema.ts";
import { openJournal } from "../../src/journal/journal.ts";
import {
  MetricsAccessError,
  MetricsFileError,
  MetricsLockedError,
  MetricsNotFoundError,
  MetricsStateError,
} from "../../src/metrics/errors.ts";
import { type MetricsStore, openMetricsStore } from "../../src/metrics/store.ts";
import { repo } from "../helpers/runtimes.ts";
import { runEvents, T0, tempHome } from "./fixtures.ts";

const home = tempHome("ingest");
afterAll(() => home.cleanup());

/** What two stores must agree on for one run. */
async function fingerprint(store: MetricsStore, runId: string) {
  const q = async (sql: string) => (await store.query(sql, { run: runId }, { maxRows: 100_000 })).rows;
  return {
    events: await q(
      "SELECT kind, count(*) AS n, min(seq) AS a, max(seq) AS b FROM events WHERE run_id = $run GROUP BY kind ORDER BY kind",
    ),
    minute: await q(
      `SELECT stage, bucket, events, rows, errors, busy_ms, lat_count, p50_ms, p95_ms, p99_ms, max_ms
       FROM stage_metrics_by(INTERVAL 1 MINUTE) WHERE run_id = $run ORDER BY stage, bucket`,
    ),
    second: await q(
      "SELECT stage, bucket, rows, p99_ms FROM stage_metrics WHERE run_id = $run ORDER BY stage, bucket",
    ),
    runs: await q("SELECT * EXCLUDE (last_event_at) FROM runs WHERE run_id = $run"),
    totals: await q(
      "SELECT * REPLACE (round(mean_ms, 9) AS mean_ms) FROM stage_totals WHERE run_id = $run ORDER BY stage",
    ),
    fiveSeconds: await q(
      "SELECT stage, bucket, events, rows, p99_ms FROM stage_metrics_by(INTERVAL 5 SECOND) WHERE run_id = $run ORDER BY stage, bucket",
    ),
    alerts: await q("SELECT * FROM alerts WHERE run_id = $run"),
    dead: await q("SELECT seq, reason, line, record FROM dead_letters WHERE run_id = $run ORDER BY seq"),
  };
}

async function reference(runId: string, events: SluiceEvent[]) {
  const store = await openMetricsStore(join(home.dir, `ref-${runId}`), { flushIntervalMs: 3_600_000 });
  await store.ingest(events);
  const fp = await fingerprint(store, runId);
  await store.close();
  return fp;
}

describe("MetricsStore.ingest", () => {
  it("re-ingests a journal tail once: events at or below the run's mark are skipped", async () => {
    const runId = "run-journal";
    const events = runEvents(runId);
    const jdir = join(home.dir, "journal");
    const journal = await openJournal<SluiceEvent>(jdir);
    for (const e of events) journal.append(e);
    await journal.sync();

    // The store fell behind: only the first 217 events (ending mid-minute) made it.
    const dir = join(home.dir, "behind");
    let store = await openMetricsStore(dir, { flushIntervalMs: 3_600_000 });
    for (const e of events.slice(0, 217)) store.add(e);
    await store.close();

    store = await openMetricsStore(dir, { flushIntervalMs: 3_600_000 });
    expect(store.highWaterMark(runId)).toMatchObject({ seq: 217, persistedSeq: 217 });
    const read = async function* () {
      for await (const r of journal.read()) yield r.value;
    };
    const first = await store.ingest(read());
    expect(first).toMatchObject({ accepted: events.length - 217, skipped: 217 });
    expect(store.highWaterMark(runId)).toMatchObject({ seq: events.length, persistedSeq: events.length });
    const again = await store.ingest(read());
    expect(again).toMatchObject({ accepted: 0, skipped: events.length });

    expect(await fingerprint(store, runId)).toEqual(await reference(runId, events));
    await store.close();
    await journal.close();
  });

  it("numbers a tail from firstSeq, and honours explicit seq", async () => {
    const runId = "run-tail";
    const events = runEvents(runId, 30);
    const store = await openMetricsStore(join(home.dir, "tail"), { flushIntervalMs: 3_600_000 });
    await store.ingest(events.slice(0, 40));
    // The engine read the journal from record 31 on: overlapping 31..40 is skipped.
    const r = await store.ingest(events.slice(30), { firstSeq: 31 });
    expect(r).toMatchObject({ accepted: events.length - 40, skipped: 10 });
    const explicit = await store.ingest(events.slice(0, 5).map((e, i) => ({ ...e, seq: i + 1 })));
    expect(explicit).toMatchObject({ accepted: 0, skipped: 5 });
    expect(await fingerprint(store, runId)).toEqual(await reference(runId, events));
    await store.close();
  });

  it("writes in batches of batchEvents while reading on; a failed batch fails ingest (never an unhandled rejection)", async () => {
    const runId = "run-batches";
    const events = runEvents(runId, 900);
    const store = await openMetricsStore(join(home.dir, "batches"), { flushIntervalMs: 3_600_000 });
    // Small batches: several flushes, each in flight while the next is read (the loop lets the
    // event loop turn every 1024 events meanwhile).
    const r = await store.ingest(events, { batchEvents: 1500 });
    expect(r).toMatchObject({ accepted: events.length, skipped: 0 });
    expect(await fingerprint(store, runId)).toEqual(await reference(runId, events));

    // The first flush of a second ingest fails while the loop reads the next 40 000 events
    // and turns the event loop: ingest rejects with that error when it next waits for the
    // flush, and nothing is reported as an unhandled rejection meanwhile (vitest fails on one).
    const failing = runEvents("run-failing", 20_000);
    let flushes = 0;
    const real = store.flush.bind(store);
    store.flush = async () => {
      await real();
      // Fails after DuckDB answered, while the loop is between turns of the event loop.
      if (++flushes === 1) throw new Error("disk on fire");
    };
    await expect(store.ingest(failing, { batchEvents: 40_000 })).rejects.toThrow("disk on fire");
    expect(flushes).toBe(1);
    await store.close();
  });

  for (const [mode, what] of [
    ["mid-flush", "in the middle of a flush"],
    ["busy", "with events added during the last flush never written"],
  ] as const) {
    it(`after SIGKILL ${what}, the journal replay restores every event exactly once`, async () => {
      const runId = `run-killed-${mode}`;
      const events = runEvents(runId);
      const dir = join(home.dir, `killed-${mode}`);
      const child = spawnSync(
        process.execPath,
        ["--import", "tsx", join(repo, "test/metrics/kill-writer.ts"), dir, runId, "333", mode],
        { cwd: repo, encoding: "utf8", timeout: 120_000 },
      );
      expect(child.signal).toBe("SIGKILL");
      expect(child.stdout).toContain("killing");

      const store = await openMetricsStore(dir, { flushIntervalMs: 3_600_000 });
      const mark = store.highWaterMark(runId);
      expect(mark?.seq).toBeGreaterThanOrEqual(250);
      expect(mark?.seq).toBeLessThan(333);
      const r = await store.ingest(events);
      expect(r.accepted + r.skipped).toBe(events.length);
      expect(r.skipped).toBe(mark?.seq);
      expect(await fingerprint(store, runId)).toEqual(await reference(runId, events));
      await store.close();
    });
  }
});

describe("one writer owns the file", () => {
  it("in this process: a second writer is refused, a read-only handle shares the writer", async () => {
    const dir = join(home.dir, "shared");
    const writer = await openMetricsStore(dir, { flushIntervalMs: 3_600_000 });
    await expect(openMetricsStore(dir)).rejects.toBeInstanceOf(MetricsStateError);
    const reader = await openMetricsStore(dir, { readOnly: true });
    writer.add(runEvents("run-x", 2)[0]);
    await writer.flush();
    expect((await reader.query("SELECT run_id FROM runs")).rows).toEqual([{ run_id: "run-x" }]);
    expect(() => reader.add(runEvents("run-y", 2)[0])).toThrow(MetricsStateError);
    await expect(reader.prune(0)).rejects.toBeInstanceOf(MetricsStateError);
    await reader.close();
    // The writer still works after the reader closed.
    expect((await writer.query("SELECT count(*) AS n FROM runs")).rows).toEqual([{ n: 1 }]);
    // Concurrent opens in one process share one instance; a new writer may follow a closed one.
    const [a, b] = await Promise.all([
      openMetricsStore(dir, { readOnly: true }),
      openMetricsStore(dir, { readOnly: true }),
    ]);
    await writer.close();
    const again = await openMetricsStore(dir, { flushIntervalMs: 3_600_000 });
    again.add(runEvents("run-z", 2)[0]);
    await again.flush();
    expect((await a.query("SELECT count(*) AS n FROM runs")).rows).toEqual([{ n: 2 }]);
    await Promise.all([a.close(), b.close(), again.close()]);
  });

  it("across processes: readers and writers get MetricsLockedError while another process writes", async () => {
    const dir = join(home.dir, "locked");
    const child: ChildProcess = spawn(
      process.execPath,
      ["--import", "tsx", join(repo, "test/metrics/hold-writer.ts"), dir],
      {
        cwd: repo,
        stdio: ["pipe", "pipe", "inherit"],
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on("data", (d: Buffer) => d.toString().includes("open") && resolve());
        child.on("exit", (code) => reject(new Error(`holder exited with ${code}`)));
      });
      const ro = await openMetricsStore(dir, { readOnly: true }).catch((e: unknown) => e);
      expect(ro).toBeInstanceOf(MetricsLockedError);
      expect((ro as MetricsLockedError).pid).toBe(child.pid);
      expect((ro as Error).message).toContain("HTTP API");
      await expect(openMetricsStore(dir)).rejects.toBeInstanceOf(MetricsLockedError);
    } finally {
      child.stdin?.end();
      await new Promise((r) => child.on("exit", r));
    }
    const ro = await openMetricsStore(dir, { readOnly: true });
    expect((await ro.query("SELECT count(*) AS n FROM runs")).rows).toEqual([{ n: 0 }]);
    await ro.close();
  });

  it("a file that is not a DuckDB database: says so, and that moving it away is safe", async () => {
    const dir = join(home.dir, "garbage");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "metrics.duckdb"), "not a database, ".repeat(400));
    const e = await openMetricsStore(dir).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MetricsFileError);
    expect((e as Error).message).toContain(join(dir, "metrics.duckdb"));
    expect((e as Error).message).toContain("rebuilds them from the journals");
    expect((e as Error).message).not.toContain("!.");
  });

  it("a file this process may not write: says so, and who may open it", async () => {
    // /sys refuses every new file, even to root (who runs the tests).
    const e = await openMetricsStore(undefined, { path: "/sys/metrics.duckdb" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MetricsAccessError);
    expect((e as Error).message).toMatch(
      /^The metrics database \/sys\/metrics\.duckdb cannot be opened: permission denied\./,
    );
    expect((e as Error).message).toContain("run them as the user who owns the state directory");
  });

  it("a read-only open of a missing file says where it looked", async () => {
    await expect(openMetricsStore(join(home.dir, "nothing-here"), { readOnly: true })).rejects.toBeInstanceOf(
      MetricsNotFoundError,
    );
  });
});

describe("prune", () => {
  it("deletes runs whose last event is older than the cutoff, and keeps the rest", async () => {
    const now = T0 + 10 * 86_400_000;
    const clock = { now: () => now, monotonic: () => 0, sleep: async () => {}, every: () => () => {} };
    const store = await openMetricsStore(join(home.dir, "prune"), { flushIntervalMs: 3_600_000, clock });
    await store.ingest(runEvents("old", 20));
    await store.ingest(runEvents("new", 20).map((e) => ({ ...e, ts: e.ts + 9 * 86_400_000 })));
    await store.recordBenchResult({
      scenario: "s",
      ts: T0,
      runtime: "node",
      metrics: { rowsPerS: { value: 1, better: "higher" } },
    });
    const r = await store.prune(2 * 86_400_000);
    expect(r.runs).toEqual(["old"]);
    expect(r.rows).toBeGreaterThan(20);
    expect((await store.query("SELECT DISTINCT run_id FROM events")).rows).toEqual([{ run_id: "new" }]);
    expect((await store.query("SELECT count(*) AS n FROM bench_results")).rows).toEqual([{ n: 0 }]);
    expect(store.highWaterMark("old")).toBeUndefined();
    await store.close();
  });
});
