/**
 * Baselines are medians of the last N comparable runs (or scenario results);
 * a run worse than its baseline beyond the tolerance is a regression.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SluiceEvent } from "../../src/events/schema.ts";
import { type MetricsStore, openMetricsStore } from "../../src/metrics/store.ts";
import { ev, progress, runEnded, runStarted, T0, tempHome } from "./fixtures.ts";

const home = tempHome("baselines");
let store: MetricsStore;
const HOUR = 3_600_000;

/** A completed run of `p` with the given throughput, p99 and peak RSS. */
function run(
  n: number,
  rowsPerS: number,
  opts: { p99?: number; rss?: number; hash?: string; runtime?: string; pipeline?: string } = {},
) {
  const base = { runId: `run-${String(n).padStart(2, "0")}`, pipeline: opts.pipeline ?? "p" };
  const t = T0 + n * HOUR;
  const rows = 100_000;
  const durationMs = (rows / rowsPerS) * 1000;
  const out: SluiceEvent[] = [
    runStarted(base, t, { definitionHash: opts.hash ?? "d1", runtime: opts.runtime ?? "node" }),
    progress(base, { stage: "1:map", index: 1, ts: t + 1000, samples: [opts.p99 ?? 10], rowsIn: rows }),
    ev(base, t + 1000, {
      kind: "resource.sample",
      rssBytes: opts.rss ?? 1e8,
      heapUsedBytes: 1,
      cpuPercent: 100,
      eventLoopDelayMs: 1,
    }),
    runEnded(base, t + durationMs, { rowsIn: rows, rowsOut: rows, durationMs }),
  ];
  return out;
}

beforeAll(async () => {
  store = await openMetricsStore(home.dir, { flushIntervalMs: 3_600_000 });
  await store.ingest([
    ...run(1, 1000),
    ...run(2, 1100, { p99: 12 }),
    ...run(3, 900, { rss: 1.2e8 }),
    ...run(4, 1050),
    ...run(5, 950),
    ...run(6, 5000, { hash: "other" }), // a different pipeline shape: not comparable
    ...run(7, 5000, { runtime: "bun" }), // another runtime: not comparable
    ...run(8, 700, { p99: 30, rss: 2e8 }), // slower, slower tail, heavier
    ...run(9, 980, { p99: 10.5 }), // within tolerance
  ]);
});
afterAll(async () => {
  await store?.close();
  home.cleanup();
});

describe("baselines", () => {
  it("are medians over the last N comparable completed runs", async () => {
    const b = await store.baselines({ pipeline: "p", runtime: "node", definitionHash: "d1", last: 5 });
    // The last five comparable: run-09, 08, 05, 04, 03 → rows/s 980, 700, 950, 1050, 900.
    expect(b?.runs).toEqual(["run-09", "run-08", "run-05", "run-04", "run-03"]);
    expect(b?.metrics.rows_per_s.median).toBeCloseTo(950, 6);
    expect(b?.metrics.rows_per_s.better).toBe("higher");
    expect(b?.metrics.p99_ms.median).toBe(10);
    expect(b?.metrics.peak_rss_bytes.median).toBe(1e8);
  });

  it("are null when nothing matches", async () => {
    expect(await store.baselines({ pipeline: "nope" })).toBeNull();
  });
});

describe("regressions", () => {
  it("flags a run slower and heavier than the median of the comparable runs before it", async () => {
    const r = await store.regressions({ runId: "run-08" });
    expect(r.baseline?.runs).toEqual(["run-05", "run-04", "run-03", "run-02", "run-01"]);
    expect(r.regressed).toBe(true);
    const byMetric = Object.fromEntries(r.checks.map((c) => [c.metric, c]));
    expect(byMetric.rows_per_s).toMatchObject({ baseline: 1000, regressed: true, tolerance: 0.1 });
    expect(byMetric.rows_per_s.value).toBeCloseTo(700, 6);
    expect(byMetric.rows_per_s.change).toBeCloseTo(-0.3, 9);
    expect(byMetric.duration_ms.regressed).toBe(true);
    expect(byMetric.p99_ms).toMatchObject({ value: 30, baseline: 10, regressed: true });
    expect(byMetric.peak_rss_bytes).toMatchObject({ value: 2e8, baseline: 1e8, regressed: true });
    expect(byMetric.dead_letter_rate).toMatchObject({ absolute: true, regressed: false });
  });

  it("does not flag a run within tolerance; a configurable tolerance can", async () => {
    const ok = await store.regressions({ runId: "run-09" });
    expect(ok.regressed).toBe(false);
    // Before run-09: rows/s 700, 950, 1050, 900, 1100, 1000 → median 975; p99 30, 10, 10, 10, 12, 10 → 10.
    expect(ok.checks.find((c) => c.metric === "rows_per_s")?.baseline).toBe(975);
    expect(ok.checks.find((c) => c.metric === "p99_ms")).toMatchObject({
      value: 10.5,
      baseline: 10,
      regressed: false,
    });
    const strict = await store.regressions({ runId: "run-09" }, { tolerance: { p99_ms: 0.01 } });
    expect(strict.checks.find((c) => c.metric === "p99_ms")?.regressed).toBe(true);
    expect(strict.regressed).toBe(true);
  });

  it("gives no verdict without enough comparable runs", async () => {
    const r = await store.regressions({ runId: "run-02" });
    expect(r).toMatchObject({ regressed: false, checks: [] });
    expect(r.note).toContain("1 comparable completed runs");
    const relaxed = await store.regressions(
      { runId: "run-07" },
      { sameRuntime: false, sameDefinition: false },
    );
    expect(relaxed.baseline?.runs).toContain("run-06");
  });

  it("compares a benchmark scenario's results with its recorded history", async () => {
    for (const [i, v] of [100, 104, 96, 101, 99].entries()) {
      await store.recordBenchResult({
        scenario: "csv-parse",
        runId: `b${i}`,
        ts: T0 + i * 1000,
        runtime: "node",
        host: "h",
        metrics: {
          rowsPerS: { value: v, unit: "rows/s", better: "higher" },
          peakRss: { value: 50, better: "lower" },
        },
      });
    }
    const given = await store.regressions({
      scenario: "csv-parse",
      runtime: "node",
      metrics: { rowsPerS: 80, peakRss: 51 },
    });
    expect(given.regressed).toBe(true);
    expect(given.checks.map((c) => [c.metric, c.baseline, c.regressed])).toEqual([
      ["peakRss", 50, false],
      ["rowsPerS", 100, true],
    ]);
    // The latest recorded results against the ones before them.
    await store.recordBenchResult({
      scenario: "csv-parse",
      runId: "b5",
      ts: T0 + 9000,
      runtime: "node",
      host: "h",
      metrics: { rowsPerS: { value: 98, better: "higher" }, peakRss: { value: 70, better: "lower" } },
    });
    const latest = await store.regressions({ scenario: "csv-parse" });
    expect(latest.target.runId).toBe("b5");
    expect(latest.checks.map((c) => [c.metric, c.value, c.regressed])).toEqual([
      ["peakRss", 70, true],
      ["rowsPerS", 98, false],
    ]);
    const base = await store.baselines({ scenario: "csv-parse", last: 3 });
    expect(base?.metrics.rowsPerS.median).toBe(99); // 98, 99, 101
  });
});
