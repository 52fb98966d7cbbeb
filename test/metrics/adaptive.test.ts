/**
 * The adaptive controller's decisions on synthetic live figures, on the
 * virtual clock: raise and lower workers and chunk size, hold at the bounds
 * and in the dead band, warm-up, cool-down, no flip-flopping, reasons.
 */
import { describe, expect, it } from "vitest";
import type { EventInput } from "../../src/events/schema.ts";
import { AdaptiveController, resolveAdaptive } from "../../src/metrics/adaptive.ts";
import type { LiveFigures, LiveStage } from "../../src/metrics/projection.ts";
import type { Knob } from "../../src/pipeline/types.ts";
import { VirtualClock } from "../../src/testing/virtual-clock.ts";

function stage(name: string, index: number, s: Partial<LiveStage> = {}): LiveStage {
  return {
    stage: name,
    index,
    rowsIn: 10_000,
    chunks: 10,
    rowsPerS: 10_000,
    errorRate: 0,
    deadLetterRate: 0,
    busyShare: 0.3,
    cpuShare: null,
    boundBy: null,
    p50Ms: 40,
    p99Ms: 50,
    queueDepth: null,
    workerUtilisation: null,
    cacheHitRate: null,
    ...s,
  };
}

function figures(stages: readonly LiveStage[], f: Partial<LiveFigures> = {}): LiveFigures {
  return {
    runId: "r1",
    pipeline: "p",
    rowsPerS: 10_000,
    referenceRowsPerS: 10_000,
    rssBytes: 1e8,
    rssSlopeBytesPerMin: 0,
    cpuPercent: 100,
    eventLoopDelayMs: 1,
    stages,
    ...f,
  };
}

function knob(setting: Knob["setting"], value: number, min = 1, max = 1_000_000) {
  const k = { setting, min, max, value, get: () => k.value, set: (v: number) => (k.value = v) };
  return k;
}

function setup(cores = 4, options: Parameters<typeof resolveAdaptive>[0] = {}) {
  const clock = new VirtualClock();
  const events: EventInput[] = [];
  const c = new AdaptiveController(
    resolveAdaptive(
      { warmup: "3s", cooldown: "3s", targetLatency: "100ms", ...(options === true ? {} : options) },
      cores,
    ),
    { runId: "r1", clock, emit: (e) => events.push(e) },
  );
  const rows = knob("chunk.rows", 1000);
  const workers = knob("workers", 1);
  c.offer("source", rows);
  c.offer("1:score", workers);
  return { clock, c, events, rows, workers };
}

// A CPU-bound pool stage: busy, its workers saturated, work queued, while the process uses ~1 of 4 cores.
const busyPool = (p99 = 60) =>
  figures(
    [
      stage("1:score", 1, { busyShare: 0.95, workerUtilisation: 0.97, queueDepth: 40, p99Ms: p99 }),
      stage("sink", 2, { busyShare: 0.02, p99Ms: 1 }),
    ],
    { cpuPercent: 110 },
  );
const idlePool = () =>
  figures([stage("1:score", 1, { busyShare: 0.1, workerUtilisation: 0.1, queueDepth: 0, p99Ms: 60 })]);
const slowChunks = (p99 = 400) => figures([stage("1:map", 1, { busyShare: 0.4, p99Ms: p99 })]);
const fastChunks = () => figures([stage("1:map", 1, { busyShare: 0.4, p99Ms: 5 })]);

describe("adaptive controller", () => {
  it("holds during the warm-up, then raises workers for a busy pool while cores idle, with its reason", async () => {
    const { clock, c, events, workers } = setup();
    await clock.advance(2000);
    expect(c.decide(busyPool())).toBeUndefined();
    await clock.advance(1000);
    const change = c.decide(busyPool());
    expect(change).toMatchObject({ stage: "1:score", setting: "workers", from: 1, to: 2 });
    expect(workers.value).toBe(2);
    expect(events).toEqual([{ kind: "config.changed", ...change }]);
    expect(change?.reason).toMatch(/^raise-workers: 1:score was busy 95% .* 97% utilised, .*1\.1 of 4 cores/);
    expect(change?.reason).toMatch(/raised workers of 1:score from 1 to 2 \(bounds 1\.\.4\)/);
  });

  it("does not raise workers when no core is free", async () => {
    const { clock, c } = setup(2);
    await clock.advance(5000);
    expect(c.decide(figures(busyPool().stages, { cpuPercent: 190 }))).toBeUndefined();
  });

  it("lowers workers that idle with nothing queued", async () => {
    const { clock, c, workers } = setup();
    workers.value = 4;
    await clock.advance(3000);
    const change = c.decide(idlePool());
    expect(change).toMatchObject({ setting: "workers", from: 4, to: 1 });
    expect(change?.reason).toMatch(/4 workers were 10% utilised with nothing queued/);
  });

  it("lowers the chunk size over the latency target and raises it far under, within bounds", async () => {
    const { clock, c, rows } = setup();
    await clock.advance(3000);
    expect(c.decide(slowChunks(400))).toMatchObject({
      stage: "source",
      setting: "chunk.rows",
      from: 1000,
      to: 250,
    });
    expect(rows.value).toBe(250);
    await clock.advance(9000); // past the cool-down and the no-reversal span
    expect(c.decide(fastChunks())).toMatchObject({ setting: "chunk.rows", from: 250, to: 500 });
  });

  it("holds in the dead band between a quarter of the target and the target", async () => {
    const { clock, c, events } = setup();
    for (let i = 0; i < 10; i++) {
      await clock.advance(1000);
      expect(c.decide(slowChunks(60))).toBeUndefined();
      expect(c.decide(slowChunks(99))).toBeUndefined();
    }
    expect(events).toEqual([]);
  });

  it("holds at the bounds", async () => {
    const { clock, c, rows, workers } = setup(4, {
      chunkRows: { min: 100, max: 2000 },
      workers: { min: 1, max: 2 },
    });
    rows.value = 2000;
    workers.value = 2;
    await clock.advance(5000);
    expect(c.decide(fastChunks())).toBeUndefined(); // already at max rows
    expect(c.decide(busyPool())).toBeUndefined(); // already at max workers
    rows.value = 120;
    expect(c.decide(slowChunks(1000))).toMatchObject({ from: 120, to: 100 }); // clamped to min
    await clock.advance(3000);
    expect(c.decide(slowChunks(1000))).toBeUndefined(); // at min
    const k = c.knobs();
    expect(k).toEqual([
      { stage: "source", setting: "chunk.rows", min: 100, max: 2000, value: 100 },
      { stage: "1:score", setting: "workers", min: 1, max: 2, value: 2 },
    ]);
  });

  it("waits a cool-down after any change, and does not move a setting back within three cool-downs", async () => {
    const { clock, c, events } = setup();
    await clock.advance(3000);
    expect(c.decide(slowChunks())).toMatchObject({ from: 1000, to: 250 });
    await clock.advance(1000);
    expect(c.decide(slowChunks())).toBeUndefined(); // cooling down
    await clock.advance(2000);
    // Figures now say the chunks are small; growing them back so soon would flap.
    for (let i = 0; i < 5; i++) {
      expect(c.decide(fastChunks())).toBeUndefined();
      await clock.advance(1000);
    }
    await clock.advance(2000); // 3 cool-downs since the change
    expect(c.decide(fastChunks())).toMatchObject({ from: 250, to: 500 });
    expect(events).toHaveLength(2);
  });

  it("makes one change per decision, the recommendations' first", async () => {
    const { clock, c, events, rows } = setup();
    await clock.advance(3000);
    let both: LiveFigures = figures(
      [
        stage("1:score", 1, { busyShare: 0.95, workerUtilisation: 0.97, queueDepth: 40, p99Ms: 400 }),
        stage("sink", 2, { busyShare: 0.02, p99Ms: 1 }),
      ],
      { cpuPercent: 110 },
    );
    expect(c.decide(both)).toMatchObject({ setting: "workers", from: 1, to: 2 });
    expect(events).toHaveLength(1); // not the chunk size as well
    expect(rows.value).toBe(1000);
    await clock.advance(3000);
    // The pool no longer limits the run; its chunks are still over the target.
    both = {
      ...both,
      stages: [{ ...both.stages[0], workerUtilisation: 0.5, busyShare: 0.5 }, both.stages[1]],
    };
    expect(c.decide(both)).toMatchObject({ setting: "chunk.rows", from: 1000 });
    expect(events.map((e) => (e as { setting: string }).setting)).toEqual(["workers", "chunk.rows"]);
  });

  it("ticks on the clock from the run's events", async () => {
    const { clock, c, events } = setup();
    const stop = c.start();
    const base = { runId: "r1", pipeline: "p" };
    const hist = { buckets: [[60, 10]] as Array<[number, number]>, count: 10, sumMs: 4000, maxMs: 450 };
    for (let t = 1; t <= 6; t++) {
      c.observe({
        ...base,
        kind: "stage.progress",
        ts: t * 1000,
        stage: "1:map",
        index: 1,
        chunks: 10,
        rowsIn: 10_000,
        rowsOut: 10_000,
        filtered: 0,
        deadLettered: 0,
        errors: 0,
        bytes: 0,
        busyMs: 400,
        intervalMs: 1000,
        latency: hist,
      });
      await clock.advance(1000);
    }
    stop();
    // After the 3 s warm-up, and again after the 3 s cool-down (the figures still say too slow).
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      kind: "config.changed",
      stage: "source",
      setting: "chunk.rows",
      from: 1000,
    });
    expect(events[1]).toMatchObject({ from: (events[0] as { to: number }).to });
    await clock.advance(10_000);
    expect(events).toHaveLength(2); // stopped
  });

  it("leaves a setting alone when it is turned off; rejects bad bounds", () => {
    const { c } = setup(4, { workers: false });
    expect(c.knobs().map((k) => k.setting)).toEqual(["chunk.rows"]);
    expect(() => resolveAdaptive({ chunkRows: { min: 10, max: 5 } }, 2)).toThrow(/1 <= min <= max/);
    expect(() => resolveAdaptive({ cooldown: 0 }, 2)).toThrow(/cooldown must be more than 0/);
    expect(resolveAdaptive(true, 8)).toMatchObject({
      intervalMs: 1000,
      warmupMs: 3000,
      cooldownMs: 3000,
      targetLatencyMs: 100,
      chunkRows: { min: 100, max: 10_000 },
      workers: { min: 1, max: 8 },
    });
  });
});
