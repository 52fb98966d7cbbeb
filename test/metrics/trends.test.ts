/**
 * The `trends` view and `store.trends()`: per pipeline and stage, the slope
 * and direction of rows/s, p99 and peak RSS over the last N completed runs.
 * Twelve synthetic runs whose throughput climbs 100 rows/s a run, whose p99
 * climbs, and whose peak RSS stays put; a failed run in between (left out);
 * another pipeline with two runs (too few for a direction).
 */
import { afterAll, describe, expect, it } from "vitest";
import type { SluiceEvent } from "../../src/events/schema.ts";
import { openMetricsStore } from "../../src/metrics/store.ts";
import { ev, progress, runEnded, runStarted, T0, tempHome } from "./fixtures.ts";

const home = tempHome("trends");
afterAll(() => home.cleanup());

function run(pipeline: string, i: number, status: "completed" | "failed" = "completed"): SluiceEvent[] {
  const R = { runId: `${pipeline}-${String(i).padStart(2, "0")}`, pipeline };
  const t = T0 + i * 60_000;
  const rowsIn = 1000 + 100 * i;
  return [
    runStarted(R, t),
    // 1:map's own rows/s climbs too (its intervals sum to 1 s); its chunk latency grows 5 ms a run.
    progress(R, { stage: "1:map", index: 1, ts: t + 1000, rowsIn, samples: [10 + 5 * i], busyMs: 500 }),
    ev(R, t + 1000, {
      kind: "resource.sample",
      rssBytes: 1e8,
      heapUsedBytes: 1,
      cpuPercent: 50,
      eventLoopDelayMs: 1,
    }),
    runEnded(R, t + 1000, { status, durationMs: 1000, rowsIn, rowsOut: rowsIn }),
  ];
}

describe("trends", () => {
  it("fits slope and direction over the last 10 completed runs, per pipeline and stage", async () => {
    const events: SluiceEvent[] = [];
    for (let i = 0; i < 12; i++) events.push(...run("orders", i));
    events.push(...run("orders", 12, "failed"));
    for (let i = 0; i < 2; i++) events.push(...run("small", i));
    const store = await openMetricsStore(home.dir, { flushIntervalMs: 3_600_000 });
    try {
      await store.ingest(events);
      const trends = await store.trends({ pipeline: "orders" });
      const get = (stage: string, metric: string) =>
        trends.find((t) => t.stage === stage && t.metric === metric);
      // Runs 2..11 (the failed run 12 is not in the window): 1200 → 2100 rows/s, +100 a run.
      const rps = get("*", "rows_per_s");
      expect(rps).toMatchObject({ runs: 10, firstValue: 1200, lastValue: 2100, direction: "improving" });
      expect(rps?.slope).toBeCloseTo(100, 6);
      expect(rps?.change).toBeCloseTo((100 * 9) / 1650, 6);
      expect(rps?.lastRunId).toBe("orders-11");
      expect(get("1:map", "rows_per_s")).toMatchObject({ direction: "improving", runs: 10 });
      expect(get("1:map", "rows_per_s")?.slope).toBeCloseTo(100, 6);
      expect(get("1:map", "p99_ms")).toMatchObject({ direction: "worsening", better: "lower" });
      expect(get("*", "p99_ms")?.direction).toBe("worsening");
      expect(get("*", "peak_rss_bytes")).toMatchObject({ direction: "flat", slope: 0, lastValue: 1e8 });
      // Run-level rows first.
      expect(trends[0].stage).toBe("*");
      expect(new Set(trends.map((t) => t.pipeline))).toEqual(new Set(["orders"]));
      // Another window: the last 3 runs only.
      expect((await store.trends({ pipeline: "orders", runs: 3 })).find((t) => t.stage === "*")?.runs).toBe(
        3,
      );
      // Too few runs: figures, no direction.
      const small = await store.trends({ pipeline: "small" });
      expect(small.length).toBeGreaterThan(0);
      for (const t of small) expect(t.direction).toBeNull();
      // The view itself, as `sluice sql` sees it.
      const view = await store.query(
        "SELECT direction FROM trends WHERE pipeline = 'orders' AND stage = '*' AND metric = 'rows_per_s'",
      );
      expect(view.rows).toEqual([{ direction: "improving" }]);
    } finally {
      await store.close();
    }
  });
});
