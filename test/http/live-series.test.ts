/** `/api/metrics` for a run the server follows on the bus: answered from the live series with the store's figures, the store asked only for what the live series does not hold. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBus } from "../../src/events/bus.ts";
import type { SluiceEvent } from "../../src/events/schema.ts";
import { createApp } from "../../src/http/app.ts";
import { LiveSeries } from "../../src/http/live-series.ts";
import { storeQueries } from "../../src/http/store-queries.ts";
import type { MetricsQueries, SeriesMetric } from "../../src/http/types.ts";
import { Histogram } from "../../src/metrics/histogram.ts";
import { type MetricsStore, openMetricsStore } from "../../src/metrics/store.ts";
import { VirtualClock } from "../../src/testing/virtual-clock.ts";

const T0 = Date.parse("2026-01-02T00:00:00.123Z");
const RUN = "20260102T000000123Z-live01";
const STAGES = ["source", "map", "sink"];
const METRICS: SeriesMetric[] = [
  "rows_per_s",
  "bytes_per_s",
  "rows_in",
  "rows_out",
  "errors",
  "error_rate",
  "dead_lettered",
  "dead_letter_rate",
  "busy_share",
  "queue_depth",
  "mean_ms",
  "max_ms",
  "p50_ms",
  "p95_ms",
  "p99_ms",
];

/** A deterministic run: three stages flushing every ~250 ms (jittered) for 3.5 minutes. */
function runEvents(runId: string, resumedFrom?: number): SluiceEvent[] {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const base = { runId, pipeline: "orders" };
  const out: SluiceEvent[] = [
    {
      kind: "run.started",
      ts: T0,
      ...base,
      stages: STAGES,
      source: "csv",
      sink: "ndjson",
      runtime: "node",
      runtimeVersion: "24",
      resumedFrom,
    },
  ];
  for (let t = T0 + 40; t < T0 + 210_000; t += 200 + Math.floor(rnd() * 100)) {
    STAGES.forEach((stage, index) => {
      const h = new Histogram();
      const n = Math.floor(rnd() * 20);
      for (let i = 0; i < n; i++) h.record(rnd() * rnd() * 50);
      const rowsIn = Math.floor(rnd() * 5000);
      out.push({
        kind: "stage.progress",
        ts: t + index,
        ...base,
        stage,
        index,
        chunks: n,
        rowsIn,
        rowsOut: rowsIn - (rowsIn % 7),
        filtered: 0,
        deadLettered: rowsIn % 7,
        errors: rowsIn % 3,
        bytes: rowsIn * 41,
        busyMs: rnd() * 200,
        intervalMs: 200 + rnd() * 100,
        queueDepth: stage === "map" ? Math.floor(rnd() * 16) : undefined,
        latency: h.toData(),
      });
    });
  }
  return out;
}

const json = async (r: Response) => JSON.parse(await r.text());

/** `MetricsQueries` that counts series calls. */
function counting(q: MetricsQueries): MetricsQueries & { seriesCalls: number } {
  const out = { ...q, seriesCalls: 0 };
  out.series = (query) => {
    out.seriesCalls++;
    return q.series(query);
  };
  return out;
}

const home = mkdtempSync(join(tmpdir(), "sluice-http-live-series-"));
let store: MetricsStore;
let queries: MetricsQueries;
const bus = new EventBus();

beforeAll(async () => {
  store = await openMetricsStore(home);
  store.attach(bus);
  queries = storeQueries(store);
});
afterAll(async () => {
  await store?.close();
  rmSync(home, { recursive: true, force: true });
});

describe("live series", () => {
  it("answers a followed run with the store's series for the same events, for every metric, bucket and window", async () => {
    const clock = new VirtualClock(T0 + 300_000);
    const remote = counting(queries);
    const live = createApp({ bus, metrics: remote, clock });
    const stored = createApp({ metrics: queries, clock });
    for (const e of runEvents(RUN)) bus.publish(e);
    await store.flush();

    const windows = [
      "", // the last hour up to now
      `&from=${T0 + 65_000}&to=${T0 + 125_000}`, // cut through the run
    ];
    let compared = 0;
    for (const bucket of ["1s", "15s", "1m", "1h"])
      for (const metric of METRICS)
        for (const stage of ["", "&stage=map"])
          for (const w of windows) {
            const url = `/api/metrics?run=${RUN}&metric=${metric}&bucket=${bucket}${stage}${w}`;
            const a = await json(await live.app.request(url));
            const b = await json(await stored.app.request(url));
            expect({ ...a, points: a.points.length }, url).toEqual({ ...b, points: b.points.length });
            if (b.points.length > 0) compared++;
            for (let i = 0; i < b.points.length; i++) {
              const [p, want] = [a.points[i], b.points[i]];
              expect([p.run, p.stage, p.t], url).toEqual([want.run, want.stage, want.t]);
              if (want.value === null) expect(p.value, `${url} ${p.t}`).toBeNull();
              else expect(p.value, `${url} ${p.stage} ${p.t}`).toBeCloseTo(want.value, 9);
            }
          }
    expect(compared).toBeGreaterThan(100);
    // The page limit cuts the same points.
    const limited = `/api/metrics?run=${RUN}&bucket=1s&limit=7&from=${T0}&to=${T0 + 60_000}`;
    expect(await json(await live.app.request(limited))).toEqual(
      await json(await stored.app.request(limited)),
    );
    expect(remote.seriesCalls).toBe(0);
    live.close();
  });

  it("asks the store for runs, pipelines and ranges it does not hold", async () => {
    const clock = new VirtualClock(T0 + 300_000);
    const remote = counting(queries);
    const busB = new EventBus();
    const { app, close } = createApp({ bus: busB, metrics: remote, clock });
    // A run resumed from an earlier process: what precedes its restart is only in the store.
    const resumed = "20260102T000000123Z-resum1";
    for (const e of runEvents(resumed, 1)) busB.publish({ ...e, ts: e.ts + 100_000 } as SluiceEvent);
    await app.request(`/api/metrics?run=${resumed}&from=${T0}&to=${T0 + 600_000}`);
    expect(remote.seriesCalls).toBe(1);
    // From its restart on, it is held.
    await app.request(`/api/metrics?run=${resumed}&from=${T0 + 101_000}&to=${T0 + 600_000}`);
    expect(remote.seriesCalls).toBe(1);
    // No run named (all runs), and a run this server never saw.
    await app.request("/api/metrics?stage=map");
    await app.request("/api/metrics?run=20250101T000000000Z-past01");
    expect(remote.seriesCalls).toBe(3);
    // Another pipeline's filter on a held run: empty, as the store answers.
    const other = await json(await app.request(`/api/metrics?run=${resumed}&pipeline=other`));
    expect(other.points).toEqual([]);
    expect(remote.seriesCalls).toBe(3);
    close();
  });

  it("keeps bounded buckets and says when a range is no longer covered", () => {
    const s = new LiveSeries({ secondBuckets: 20, minuteBuckets: 2, maxRuns: 1 });
    for (const e of runEvents(RUN)) s.apply(e);
    const q = { run: RUN, metric: "rows_in" as const, limit: 1000 };
    const end = Math.ceil((T0 + 211_000) / 1000) * 1000;
    const endMinute = Math.ceil(end / 60_000) * 60_000;
    // 1 s buckets: only the last ~20 s are held.
    expect(s.answer({ ...q, from: end - 600_000, to: end, bucketS: 1 })).toBeUndefined();
    expect(s.answer({ ...q, from: end - 15_000, to: end, bucketS: 1 })!.length).toBeGreaterThan(0);
    // 1 min buckets: the last two minutes.
    expect(s.answer({ ...q, from: endMinute - 600_000, to: endMinute, bucketS: 60 })).toBeUndefined();
    expect(s.answer({ ...q, from: endMinute - 120_000, to: endMinute, bucketS: 60 })!.length).toBeGreaterThan(
      0,
    );
    // One run kept: a newer run drops the older one.
    s.apply({ ...runEvents("20260102T000000123Z-other1")[0] });
    expect(s.version(RUN)).toBeUndefined();
    expect(s.answer({ ...q, from: end - 15_000, to: end, bucketS: 1 })).toBeUndefined();
  });

  it("tags live answers: 304 for an unchanged series, a new ETag once the run moves on (reused for seriesCacheMs)", async () => {
    const clock = new VirtualClock(T0 + 300_000);
    const busC = new EventBus();
    const { app, close } = createApp({ bus: busC, metrics: queries, clock });
    const run = "20260102T000000123Z-etag01";
    const events = runEvents(run);
    for (const e of events.slice(0, 40)) busC.publish(e);
    const url = `/api/metrics?run=${run}&from=${T0}&to=${T0 + 600_000}`;
    const first = await app.request(url);
    const etag = first.headers.get("ETag")!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const again = await app.request(url, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    busC.publish(events[40]);
    // Within the reuse interval the answer stands; after it, the new figures.
    expect((await app.request(url, { headers: { "If-None-Match": etag } })).status).toBe(304);
    await clock.advance(250);
    const moved = await app.request(url, { headers: { "If-None-Match": etag } });
    expect(moved.status).toBe(200);
    expect(moved.headers.get("ETag")).not.toBe(etag);
    close();
  });
});
