/**
 * The store's views on known event sets give exactly the expected figures;
 * percentiles are checked against an independent nearest-rank computation over
 * the same bucket bounds, for raw (sub-minute), rollup (one minute) and merged
 * rollup (multi-minute) widths.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configChangeLines } from "../../src/cli/commands/metrics.ts";
import type { EventOf, SluiceEvent } from "../../src/events/schema.ts";
import { type MetricsStore, openMetricsStore } from "../../src/metrics/store.ts";
import type { ConfigChangeRecord } from "../../src/metrics/summary.ts";
import {
  ev,
  expectedPercentile,
  latencyIn,
  progress,
  rng,
  runEnded,
  runStarted,
  T0,
  tempHome,
} from "./fixtures.ts";

const home = tempHome("views");
let store: MetricsStore;

const A = { runId: "run-a", pipeline: "orders" };
const B = { runId: "run-b", pipeline: "orders" };
const STAGES = [
  { stage: "source", index: 0, k: [10, 30] },
  { stage: "1:map", index: 1, k: [40, 60] },
  { stage: "sink", index: 2, k: [20, 50] },
] as const;
const SECONDS = 200;

interface Known {
  readonly e: EventOf<"stage.progress">;
  readonly samples: number[];
}
const known: Known[] = [];

beforeAll(async () => {
  store = await openMetricsStore(home.dir, { flushIntervalMs: 3_600_000 });
  const r = rng(42);
  const events: SluiceEvent[] = [runStarted(A, T0)];
  for (let i = 0; i < SECONDS; i++) {
    for (const s of STAGES) {
      const n = 1 + Math.floor(r() * 20);
      const samples = Array.from({ length: n }, () =>
        latencyIn(s.k[0] + Math.floor(r() * (s.k[1] - s.k[0]))),
      );
      const e = progress(A, {
        stage: s.stage,
        index: s.index,
        ts: T0 + (i + 1) * 1000,
        samples,
        rowsIn: 100 + Math.floor(r() * 900),
        errors: Math.floor(r() * 3),
        busyMs: Math.floor(r() * 900),
        intervalMs: 900 + Math.floor(r() * 200),
      });
      known.push({ e, samples });
      events.push(e);
    }
  }
  // Another run, interleaved, that must not leak into run-a's figures.
  for (let i = 0; i < 30; i++) {
    events.push(
      progress(B, { stage: "source", index: 0, ts: T0 + i * 1000 + 500, samples: [latencyIn(90)] }),
    );
  }
  for (const e of events) store.add(e);
  await store.flush();
});

afterAll(async () => {
  await store?.close();
  home.cleanup();
});

function expected(widthS: number) {
  const groups = new Map<string, Known[]>();
  for (const k of known) {
    const b = Math.floor(k.e.ts / (widthS * 1000)) * widthS * 1000;
    const key = `${k.e.stage}|${b}`;
    const g = groups.get(key) ?? [];
    g.push(k);
    groups.set(key, g);
  }
  return [...groups.entries()]
    .map(([key, g]) => {
      const [stage, b] = key.split("|");
      const samples = g.flatMap((x) => x.samples);
      const sum = (f: (e: EventOf<"stage.progress">) => number) => g.reduce((a, x) => a + f(x.e), 0);
      return {
        stage,
        b: Number(b),
        events: g.length,
        rows: sum((e) => e.rowsIn),
        errors: sum((e) => e.errors),
        rows_per_s: (sum((e) => e.rowsIn) * 1000) / sum((e) => e.intervalMs),
        busy_share: sum((e) => e.busyMs) / sum((e) => e.intervalMs),
        lat_count: samples.length,
        max_ms: Math.max(...samples),
        mean_ms: samples.reduce((a, x) => a + x, 0) / samples.length,
        p50_ms: expectedPercentile(samples, 50),
        p95_ms: expectedPercentile(samples, 95),
        p99_ms: expectedPercentile(samples, 99),
      };
    })
    .sort((x, y) => (x.stage < y.stage ? -1 : x.stage > y.stage ? 1 : x.b - y.b));
}

async function actual(from: string) {
  const { rows } = await store.query(
    `SELECT stage, epoch_ms(bucket) AS b, events, rows, errors, rows_per_s, busy_share, lat_count, max_ms, mean_ms,
            p50_ms, p95_ms, p99_ms
     FROM ${from} WHERE run_id = 'run-a' ORDER BY stage, b`,
  );
  return rows;
}

describe("stage_metrics", () => {
  for (const [label, from, width] of [
    ["stage_metrics (1 s, raw events)", "stage_metrics", 1],
    ["stage_metrics_by 2 s (raw events merged)", "stage_metrics_by(INTERVAL 2 SECOND)", 2],
    ["stage_metrics_by 5 s (5 s rollup, precomputed)", "stage_metrics_by(INTERVAL 5 SECOND)", 5],
    ["stage_metrics_by 10 s (5 s rollup merged)", "stage_metrics_by(INTERVAL 10 SECOND)", 10],
    ["stage_metrics_by 15 s (5 s rollup merged)", "stage_metrics_by(INTERVAL 15 SECOND)", 15],
    ["stage_metrics_by 1 min (1 min rollup, precomputed)", "stage_metrics_by(INTERVAL 1 MINUTE)", 60],
    ["stage_metrics_by 2 min (1 min rollup merged)", "stage_metrics_by(INTERVAL 2 MINUTE)", 120],
    ["stage_metrics_by 5 min (1 min rollup merged)", "stage_metrics_by(to_seconds(300))", 300],
  ] as const) {
    it(`${label}: one row per stage per bucket with exact figures`, async () => {
      const want = expected(width);
      const got = await actual(from);
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        const w = want[i];
        const g = got[i];
        expect({
          stage: g.stage,
          b: g.b,
          events: g.events,
          rows: g.rows,
          errors: g.errors,
          lat_count: g.lat_count,
        }).toEqual({
          stage: w.stage,
          b: w.b,
          events: w.events,
          rows: w.rows,
          errors: w.errors,
          lat_count: w.lat_count,
        });
        expect(g.p50_ms).toBe(w.p50_ms);
        expect(g.p95_ms).toBe(w.p95_ms);
        expect(g.p99_ms).toBe(w.p99_ms);
        expect(g.max_ms).toBe(w.max_ms);
        expect(g.mean_ms as number).toBeCloseTo(w.mean_ms, 9);
        expect(g.rows_per_s as number).toBeCloseTo(w.rows_per_s, 9);
        expect(g.busy_share as number).toBeCloseTo(w.busy_share, 9);
      }
    });
  }

  it("stage_totals merges each stage over the whole run", async () => {
    const { rows } = await store.query(
      "SELECT stage, rows_in, lat_count, p50_ms, p95_ms, p99_ms FROM stage_totals WHERE run_id = 'run-a' ORDER BY stage",
    );
    const want = STAGES.map((s) => {
      const mine = known.filter((k) => k.e.stage === s.stage);
      const samples = mine.flatMap((k) => k.samples);
      return {
        stage: s.stage,
        rows_in: mine.reduce((a, k) => a + k.e.rowsIn, 0),
        lat_count: samples.length,
        p50_ms: expectedPercentile(samples, 50),
        p95_ms: expectedPercentile(samples, 95),
        p99_ms: expectedPercentile(samples, 99),
      };
    }).sort((x, y) => (x.stage < y.stage ? -1 : 1));
    expect(rows).toEqual(want);
  });

  it("accepts the width as an interval expression with a bound parameter", async () => {
    const { rows } = await store.query(
      "SELECT count(*) AS n FROM stage_metrics_by(to_seconds(CAST($w AS BIGINT))) WHERE run_id = 'run-a'",
      { w: 60 },
    );
    expect(rows[0].n).toBe(expected(60).length);
  });
});

describe("runs, alerts, run_metrics and events", () => {
  const home2 = tempHome("views2");
  let s: MetricsStore;
  const C = { runId: "run-c", pipeline: "p" }; // completed
  const R = { runId: "run-r", pipeline: "p" }; // still running
  const S = { runId: "run-s", pipeline: "p" }; // interrupted, then resumed and completed

  beforeAll(async () => {
    s = await openMetricsStore(home2.dir, { flushIntervalMs: 3_600_000 });
    const events: SluiceEvent[] = [
      runStarted(C, T0),
      progress(C, { stage: "source", index: 0, ts: T0 + 1000, samples: [1], rowsIn: 500 }),
      runEnded(C, T0 + 2000, { rowsIn: 500, rowsOut: 480, filtered: 15, deadLettered: 5, durationMs: 2000 }),
      runStarted(R, T0),
      progress(R, { stage: "source", index: 0, ts: T0 + 1000, samples: [1], rowsIn: 300 }),
      progress(R, { stage: "1:map", index: 1, ts: T0 + 1000, samples: [1], rowsIn: 300, filtered: 20 }),
      progress(R, { stage: "sink", index: 2, ts: T0 + 1000, samples: [1], rowsIn: 280, deadLettered: 3 }),
      progress(R, { stage: "source", index: 0, ts: T0 + 2000, samples: [1], rowsIn: 200 }),
      runStarted(S, T0),
      runEnded(S, T0 + 5000, { status: "interrupted", rowsIn: 50, durationMs: 5000 }),
      runStarted(S, T0 + 60_000, { resumedFrom: 3 }),
      runEnded(S, T0 + 63_000, { rowsIn: 100, rowsOut: 100, durationMs: 3000 }),
      // Alerts: one raised and resolved, one escalated, one still open.
      ev(C, T0 + 1100, {
        kind: "alert.raised",
        alertId: "run-c/p99LatencyMs/1:map",
        rule: "p99LatencyMs",
        severity: "warning",
        stage: "1:map",
        value: 1200,
        threshold: 1000,
        message: "p99",
      }),
      ev(C, T0 + 1200, {
        kind: "alert.raised",
        alertId: "run-c/p99LatencyMs/1:map",
        rule: "p99LatencyMs",
        severity: "critical",
        stage: "1:map",
        value: 6000,
        threshold: 5000,
        message: "p99",
      }),
      ev(C, T0 + 1500, {
        kind: "alert.resolved",
        alertId: "run-c/p99LatencyMs/1:map",
        rule: "p99LatencyMs",
        value: 10,
      }),
      ev(R, T0 + 1500, {
        kind: "alert.raised",
        alertId: "run-r/errorRate/sink",
        rule: "errorRate",
        severity: "warning",
        stage: "sink",
        value: 0.02,
        threshold: 0.01,
        message: "errors",
      }),
      // Resources, cache, workers and retries in known buckets of run-r.
      ev(R, T0 + 1000, {
        kind: "resource.sample",
        rssBytes: 100,
        heapUsedBytes: 10,
        cpuPercent: 50,
        eventLoopDelayMs: 2,
      }),
      ev(R, T0 + 1500, {
        kind: "resource.sample",
        rssBytes: 300,
        heapUsedBytes: 30,
        cpuPercent: 150,
        eventLoopDelayMs: 9,
      }),
      ev(R, T0 + 1200, {
        kind: "cache.stats",
        stage: "1:map",
        hits: 30,
        misses: 10,
        evictions: 0,
        promotions: 0,
        demotions: 0,
        l2Hits: 0,
        entries: 10,
        bytes: 100,
        hitRate: 0.75,
      }),
      ev(R, T0 + 1300, {
        kind: "worker.stats",
        stage: "1:map",
        workers: 4,
        idle: 1,
        busy: 3,
        queueDepth: 7,
        completed: 10,
        failed: 0,
        retried: 0,
        avgTaskMs: 3,
        utilisation: 0.75,
      }),
      ev(R, T0 + 1400, { kind: "retry.scheduled", stage: "1:map", attempt: 1, delayMs: 10, error: "x" }),
      ev(R, T0 + 1450, { kind: "retry.scheduled", stage: "1:map", attempt: 2, delayMs: 20, error: "x" }),
      ev(R, T0 + 1460, { kind: "log", level: "info", message: "hello", stage: "1:map" }),
      // Adaptive configuration's changes in run-c (a long reason, to be cut in the CLI's line).
      ev(C, T0 + 1300, {
        kind: "config.changed",
        stage: "source",
        setting: "chunk.rows",
        from: 2000,
        to: 835,
        reason: `lower-chunk-size: 1:map has a p99 chunk latency of 216 ms, over the 100 ms target. ${"x".repeat(100)}`,
      }),
      ev(C, T0 + 1400, {
        kind: "config.changed",
        stage: "1:map",
        setting: "workers",
        from: 1,
        to: 2,
        reason: "raise-workers",
      }),
    ];
    for (const e of events) s.add(e);
    await s.flush();
  });

  afterAll(async () => {
    await s?.close();
    home2.cleanup();
  });

  it("runs: status, times and counts, from run.ended or live from the rollup", async () => {
    const { rows } = await s.query(
      `SELECT run_id, status, epoch_ms(started_at) AS started, epoch_ms(ended_at) AS ended, duration_ms,
              rows_in, rows_out, filtered, dead_lettered, attempts
       FROM runs ORDER BY run_id`,
    );
    expect(rows).toEqual([
      {
        run_id: "run-c",
        status: "completed",
        started: T0,
        ended: T0 + 2000,
        duration_ms: 2000,
        rows_in: 500,
        rows_out: 480,
        filtered: 15,
        dead_lettered: 5,
        attempts: 1,
      },
      {
        run_id: "run-r",
        status: "running",
        started: T0,
        ended: null,
        duration_ms: 2000,
        rows_in: 500,
        rows_out: 277,
        filtered: 20,
        dead_lettered: 3,
        attempts: 1,
      },
      {
        run_id: "run-s",
        status: "completed",
        started: T0,
        ended: T0 + 63_000,
        duration_ms: 8000,
        rows_in: 100,
        rows_out: 100,
        filtered: 0,
        dead_lettered: 0,
        attempts: 2,
      },
    ]);
  });

  it("alerts: one row per raise, paired with the resolution that followed it", async () => {
    const { rows } = await s.query(
      `SELECT run_id, rule, severity, stage, epoch_ms(raised_at) AS raised, epoch_ms(resolved_at) AS resolved, value, threshold
       FROM alerts ORDER BY raised_at`,
    );
    expect(rows).toEqual([
      {
        run_id: "run-c",
        rule: "p99LatencyMs",
        severity: "warning",
        stage: "1:map",
        raised: T0 + 1100,
        resolved: T0 + 1500,
        value: 1200,
        threshold: 1000,
      },
      {
        run_id: "run-c",
        rule: "p99LatencyMs",
        severity: "critical",
        stage: "1:map",
        raised: T0 + 1200,
        resolved: T0 + 1500,
        value: 6000,
        threshold: 5000,
      },
      {
        run_id: "run-r",
        rule: "errorRate",
        severity: "warning",
        stage: "sink",
        raised: T0 + 1500,
        resolved: null,
        value: 0.02,
        threshold: 0.01,
      },
    ]);
  });

  it("run_metrics_by: throughput, rates, cache, workers, CPU and memory per bucket", async () => {
    const { rows } = await s.query(
      `SELECT epoch_ms(bucket) AS b, rows_in, rows_out, retries, cache_hit_rate, worker_utilisation, queue_depth,
              cpu_percent, rss_bytes, heap_used_bytes, event_loop_delay_ms, dead_lettered
       FROM run_metrics_by(INTERVAL 1 SECOND) WHERE run_id = 'run-r' ORDER BY b`,
    );
    const second = Math.floor((T0 + 1000) / 1000) * 1000;
    expect(rows).toEqual([
      {
        b: second,
        rows_in: 300,
        rows_out: 277,
        retries: 2,
        cache_hit_rate: 0.75,
        worker_utilisation: 0.75,
        queue_depth: 7,
        cpu_percent: 100,
        rss_bytes: 300,
        heap_used_bytes: 30,
        event_loop_delay_ms: 9,
        dead_lettered: 3,
      },
      {
        b: second + 1000,
        rows_in: 200,
        rows_out: null,
        retries: 0,
        cache_hit_rate: null,
        worker_utilisation: null,
        queue_depth: null,
        cpu_percent: null,
        rss_bytes: null,
        heap_used_bytes: null,
        event_loop_delay_ms: null,
        dead_lettered: 0,
      },
    ]);
  });

  it("events: every stored event once, with its kind and per-run sequence number", async () => {
    const { rows } = await s.query(
      "SELECT kind, count(*) AS n, min(seq) AS first, max(seq) AS last FROM events WHERE run_id = 'run-r' GROUP BY kind ORDER BY kind",
    );
    expect(rows).toEqual([
      { kind: "alert.raised", n: 1, first: 6, last: 6 },
      { kind: "cache.stats", n: 1, first: 9, last: 9 },
      { kind: "log", n: 1, first: 13, last: 13 },
      { kind: "resource.sample", n: 2, first: 7, last: 8 },
      { kind: "retry.scheduled", n: 2, first: 11, last: 12 },
      { kind: "run.started", n: 1, first: 1, last: 1 },
      { kind: "stage.progress", n: 4, first: 2, last: 5 },
      { kind: "worker.stats", n: 1, first: 10, last: 10 },
    ]);
    const log = await s.query("SELECT payload->>'message' AS m, stage FROM events WHERE kind = 'log'");
    expect(log.rows).toEqual([{ m: "hello", stage: "1:map" }]);
  });

  it("summary: one JSON-able object per run", async () => {
    const r = await s.summary("run-r");
    expect(r?.run).toMatchObject({ runId: "run-r", status: "running", rowsIn: 500 });
    expect(r?.stages.map((x) => x.stage)).toEqual(["source", "1:map", "sink"]);
    expect(r?.caches).toEqual([
      { stage: "1:map", hits: 30, misses: 10, evictions: 0, hitRate: 0.75, entries: 10 },
    ]);
    expect(r?.retries).toEqual([{ stage: "1:map", retries: 2, maxAttempt: 2 }]);
    expect(r?.alerts).toHaveLength(1);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(await s.summary("nope")).toBeUndefined();
  });

  it("summary: the run's config changes in order, as the CLI prints them", async () => {
    const c = await s.summary("run-c");
    const reason = `lower-chunk-size: 1:map has a p99 chunk latency of 216 ms, over the 100 ms target. ${"x".repeat(100)}`;
    // seq 1 is run.started, 2 progress, 3 run.ended, 4–6 the alerts.
    expect(c?.configChanges).toEqual([
      {
        seq: 7,
        changedAt: new Date(T0 + 1300).toISOString(),
        stage: "source",
        setting: "chunk.rows",
        from: 2000,
        to: 835,
        reason,
      },
      {
        seq: 8,
        changedAt: new Date(T0 + 1400).toISOString(),
        stage: "1:map",
        setting: "workers",
        from: 1,
        to: 2,
        reason: "raise-workers",
      },
    ]);
    const view = await s.query("SELECT seq FROM config_changes WHERE run_id = 'run-c' ORDER BY seq");
    expect(c?.configChanges?.map((x) => x.seq)).toEqual(view.rows.map((r) => r.seq));
    expect((await s.summary("run-r"))?.configChanges).toEqual([]);

    const hms = (t: number) => new Date(t).toISOString().slice(11, 19);
    const lines = configChangeLines(c?.configChanges ?? [], "run-c");
    expect(lines).toEqual([
      `  ${hms(T0 + 1300)} source chunk.rows 2,000 → 835 (lower-chunk-size: 1:map has a p99 chunk latency of 216 ms, over the 100 ms target.…)`,
      `  ${hms(T0 + 1400)} 1:map workers 1 → 2 (raise-workers)`,
    ]);
    // No stage or reason: neither is printed. More than 20: 19 lines and a count of the rest.
    const bare: ConfigChangeRecord = {
      seq: 1,
      changedAt: new Date(T0).toISOString(),
      stage: null,
      setting: "workers",
      from: 2,
      to: 1.5,
      reason: null,
    };
    expect(configChangeLines([bare], "run-c")).toEqual([`  ${hms(T0)} workers 2 → 1.5`]);
    const capped = configChangeLines(
      Array.from({ length: 25 }, (_, i) => ({ ...bare, seq: i + 1 })),
      "run-c",
    );
    expect(capped).toHaveLength(20);
    expect(capped[18]).toBe(`  ${hms(T0)} workers 2 → 1.5`);
    expect(capped[19]).toBe("  … 6 more (sluice events run-c --kind config.changed)");
  });
});
