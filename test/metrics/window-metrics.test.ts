/**
 * Window metrics end to end: a windowed run's `window.progress` events land
 * in the store (`window_progress`, the `window_metrics_by` macro, the run
 * report), and late records make `sluice metrics` suggest an out-of-order
 * bound from the measured skew.
 */
import { afterAll, describe, expect, it } from "vitest";
import { EventBus } from "../../src/events/bus.ts";
import { openMetricsStore } from "../../src/metrics/store.ts";
import { window } from "../../src/operators/index.ts";
import { pipeline } from "../../src/pipeline/pipeline.ts";
import { runPipeline } from "../../src/pipeline/run.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";
import { tempHome } from "./fixtures.ts";

const home = tempHome("window-metrics");
afterAll(() => home.cleanup());

describe("window metrics", () => {
  it("stores watermark, lag, open windows and late records, and suggests a bound from the skew", async () => {
    const bus = new EventBus();
    const store = await openMetricsStore(home.dir, { flushIntervalMs: 3_600_000 });
    const sub = store.attach(bus);
    // Every 10th record is 45 s behind; the bound is 10 s and lateness 5 s: those are too late.
    const T = Date.UTC(2026, 0, 1);
    const input = Array.from({ length: 2000 }, (_, i) => ({ t: T + i * 1000 - (i % 10 === 9 ? 45_000 : 0) }));
    const s = await runPipeline(
      pipeline("win-metrics")
        .from(iterable(input, { chunkSize: 100 }))
        .via(
          window.tumbling("10s", {
            time: (r: { t: number }) => r.t,
            watermark: { outOfOrder: "10s" },
            lateness: "5s",
            aggregate: { n: "count" },
          }),
        )
        .to(collect()),
      { home: home.dir, bus, sampleResources: false },
    );
    sub.unsubscribe();
    await store.flush();
    const report = await store.summary(s.runId);
    expect(report?.windows).toEqual([
      {
        stage: "1:window.tumbling",
        late: s.deadLettered,
        lateAccepted: 0,
        lagMsMin: 10_000,
        lagMsMax: 10_000,
        maxSkewMs: 44_000,
        openWindowsMax: expect.any(Number),
      },
    ]);
    expect(s.deadLettered).toBeGreaterThan(100);
    const { rows } = await store.query(
      `SELECT sum(late)::INTEGER AS late FROM window_metrics_by(INTERVAL 1 MINUTE) WHERE run_id = '${s.runId}'`,
    );
    expect(rows[0].late).toBe(s.deadLettered);
    const rec = (await store.recommendations(s.runId, { cores: 2 }))?.find(
      (r) => r.id === "raise-out-of-order",
    );
    expect(rec).toMatchObject({
      stage: "1:window.tumbling",
      setting: "watermark.outOfOrder",
      current: 10_000,
      suggested: 44_000,
    });
    await store.close();
  });
});
