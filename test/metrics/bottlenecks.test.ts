/**
 * Bottleneck detection on a real pipeline run (runPipeline with a deliberately
 * slow map stage, its events stored through the bus), and recommendations
 * derived from figures. Time is injected: the slow stage advances the clock
 * the meters read, so the figures are exact and no assertion depends on the
 * machine's speed.
 */
import { afterAll, describe, expect, it } from "vitest";
import { EventBus } from "../../src/events/bus.ts";
import type { SluiceEvent } from "../../src/events/schema.ts";
import { findBottlenecks } from "../../src/metrics/bottlenecks.ts";
import { recommend } from "../../src/metrics/recommendations.ts";
import { openMetricsStore } from "../../src/metrics/store.ts";
import { filter, map } from "../../src/operators/index.ts";
import { pipeline } from "../../src/pipeline/pipeline.ts";
import { runPipeline } from "../../src/pipeline/run.ts";
import type { Clock } from "../../src/runtime/clock.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";
import { ev, progress, runEnded, runStarted, T0, tempHome } from "./fixtures.ts";

const home = tempHome("bottlenecks");
afterAll(() => home.cleanup());

/** A clock that only moves when the pipeline's slow stage says so. */
function manualClock(): Clock & { advance(ms: number): void } {
  let t = 0;
  return {
    now: () => T0 + t,
    monotonic: () => t,
    sleep: () => new Promise((r) => setTimeout(r, 0)),
    every: () => () => {},
    advance(ms) {
      t += ms;
    },
  };
}

describe("bottlenecks on a real run", () => {
  it("names the slow map stage, with its busy share as evidence", async () => {
    const clock = manualClock();
    const bus = new EventBus();
    const store = await openMetricsStore(home.dir, { flushIntervalMs: 3_600_000, clock });
    const sub = store.attach(bus);
    const p = pipeline("slow-map")
      .from(
        iterable(
          Array.from({ length: 5000 }, (_, i) => i),
          { chunkSize: 100 },
        ),
      )
      .via(
        map((n: number) => n + 1),
        map((n: number) => {
          clock.advance(2); // 2 ms of "work" per record
          return n * 2;
        }),
        filter((n: number) => n % 3 !== 0),
      )
      .to(collect());
    const summary = await runPipeline(p, { home: home.dir, bus, clock, sampleResources: false });
    expect(summary.status).toBe("completed");
    // The process has more cores than it uses: one core busy of four.
    bus.publish(
      ev({ runId: summary.runId, pipeline: "slow-map" }, clock.now(), {
        kind: "resource.sample",
        rssBytes: 1e8,
        heapUsedBytes: 5e7,
        cpuPercent: 100,
        eventLoopDelayMs: 1,
      }),
    );
    sub.unsubscribe();
    await store.flush();

    const b = await store.bottlenecks(summary.runId);
    expect(b?.wallMs).toBe(10_000);
    expect(b?.bottleneck).toMatchObject({ stage: "2:map", index: 2, kind: "busiest", busyShare: 1 });
    expect(b?.stages.find((s) => s.stage === "2:map")?.shareOfBusy).toBe(1);
    expect(b?.stages.find((s) => s.stage === "1:map")?.busyShare).toBe(0);
    expect(b?.evidence[0]).toBe(
      "2:map was busy 100% of the run's wall time (10.0 s of 10.0 s) and accounts for 100% of all stages' busy time.",
    );

    const recs = await store.recommendations(summary.runId, { cores: 4 });
    expect(recs?.map((r) => [r.id, r.stage])).toEqual([["parallelise-stage", "2:map"]]);
    expect(recs?.[0].reason).toContain("1.0 of 4 cores");
    expect(await store.bottlenecks("no-such-run")).toBeUndefined();
    await store.close();
  });
});

describe("recommendations from figures", () => {
  const R = { runId: "run-r", pipeline: "p" };

  async function reportOf(events: SluiceEvent[]) {
    const store = await openMetricsStore(undefined, {
      path: `${home.dir}/rec-${Math.random().toString(36).slice(2)}.duckdb`,
      flushIntervalMs: 3_600_000,
    });
    await store.ingest(events);
    const report = await store.summary(R.runId);
    await store.close();
    if (!report) throw new Error("no report");
    return report;
  }

  it("raise workers for a pooled CPU-bound stage 95% busy while cores idle", async () => {
    const report = await reportOf([
      runStarted(R, T0),
      progress(R, { stage: "1:score", index: 1, ts: T0 + 1000, samples: [5], busyMs: 950, intervalMs: 1000 }),
      progress(R, { stage: "sink", index: 2, ts: T0 + 1000, samples: [1], busyMs: 20, intervalMs: 1000 }),
      ev(R, T0 + 1000, {
        kind: "worker.stats",
        stage: "1:score",
        workers: 2,
        idle: 0,
        busy: 2,
        queueDepth: 40,
        completed: 100,
        failed: 0,
        retried: 0,
        avgTaskMs: 10,
        utilisation: 0.97,
      }),
      ev(R, T0 + 1000, {
        kind: "resource.sample",
        rssBytes: 1e8,
        heapUsedBytes: 1,
        cpuPercent: 210,
        eventLoopDelayMs: 1,
      }),
      runEnded(R, T0 + 1000, { durationMs: 1000, rowsIn: 100 }),
    ]);
    const recs = recommend(report, findBottlenecks(report), { cores: 8 });
    expect(recs.map((r) => [r.id, r.stage, r.current, r.suggested])).toEqual([
      ["raise-workers", "1:score", 2, 3],
    ]);
    expect(recs[0].evidence).toMatchObject({ busyShare: 0.95, utilisation: 0.97, cpuPercent: 210, cores: 8 });
  });

  /** One resource sample a second for `seconds`, RSS growing 1 MB/s (60 MB/min). */
  function growingRss(seconds: number): SluiceEvent[] {
    return Array.from({ length: seconds }, (_, i) =>
      ev(R, T0 + i * 1000, {
        kind: "resource.sample",
        rssBytes: 1e8 + i * 1e6,
        heapUsedBytes: 1,
        cpuPercent: 50,
        eventLoopDelayMs: i === 5 ? 250 : 2,
      }),
    );
  }

  it("lower the chunk size when p99 is high and memory grows; raise cache TTL when keys repeat but miss", async () => {
    // Growth counts after the 30 s warm-up, over at least a minute: a 100 s run.
    const events: SluiceEvent[] = [runStarted(R, T0), ...growingRss(100)];
    for (let i = 0; i < 100; i++) {
      events.push(
        progress(R, {
          stage: "1:map",
          index: 1,
          ts: T0 + i * 1000,
          samples: [400, 800],
          rowsIn: 2000,
          busyMs: 600,
        }),
      );
    }
    events.push(
      ev(R, T0 + 9000, {
        kind: "cache.stats",
        stage: "2:lookup",
        hits: 200,
        misses: 800,
        evictions: 300,
        promotions: 0,
        demotions: 0,
        l2Hits: 0,
        entries: 100,
        bytes: 1000,
        hitRate: 0.2,
      }),
      ev(R, T0 + 9000, {
        kind: "dead.letter",
        stage: "1:map",
        reason: "schema",
        attempts: 1,
        position: {},
      }),
      runEnded(R, T0 + 100_000, { durationMs: 100_000, rowsIn: 20 }),
    );
    const report = await reportOf(events);
    expect(report.resources?.rssSlopeBytesPerMin).toBeCloseTo(60e6, -3);
    const recs = recommend(report, findBottlenecks(report), { cores: 2 });
    const ids = recs.map((r) => r.id);
    expect(ids).toEqual([
      "lower-chunk-size",
      "raise-cache-ttl",
      "unblock-event-loop",
      "inspect-dead-letters",
    ]);
    const chunk = recs[0];
    expect(chunk).toMatchObject({
      stage: "1:map",
      setting: "chunkSize",
      direction: "lower",
      current: 1000,
      suggested: 500,
    });
    expect(chunk.evidence.p99Ms).toBe(800);
    expect(recs[1]).toMatchObject({ stage: "2:lookup", setting: "cache.ttl", direction: "raise" });
    expect(recs[3].action).toContain('mostly "schema"');
  });

  it("a short run's warm-up climb is not memory growth: no slope, no lower-chunk-size (issue 15 item 10)", async () => {
    // A 10-second run whose RSS climbs while it warms up: before, its report said "RSS grows 57.2 MiB/min".
    const events: SluiceEvent[] = [runStarted(R, T0)];
    for (let i = 0; i < 10; i++)
      events.push(
        progress(R, { stage: "1:map", index: 1, ts: T0 + i * 1000, samples: [400, 800], rowsIn: 2000 }),
      );
    events.push(...growingRss(10), runEnded(R, T0 + 10_000, { durationMs: 10_000, rowsIn: 20 }));
    const report = await reportOf(events);
    expect(report.resources?.samples).toBe(10);
    expect(report.resources?.rssSlopeBytesPerMin).toBeNull();
    const recs = recommend(report, findBottlenecks(report), { cores: 2 });
    expect(recs.map((r) => r.id)).not.toContain("lower-chunk-size");
    expect(recs.map((r) => r.reason).join(" ")).not.toContain("RSS grows");
  });
});
