/** `storeQueries` over a real metrics store after a real run: series agree with the store's views, lists page, hostile values stay values. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBus } from "../../src/events/bus.ts";
import { createApp } from "../../src/http/app.ts";
import { storeQueries } from "../../src/http/store-queries.ts";
import type { MetricsQueries, SeriesMetric } from "../../src/http/types.ts";
import { type MetricsStore, openMetricsStore } from "../../src/metrics/store.ts";
import { runPipeline } from "../../src/pipeline/run.ts";

const home = mkdtempSync(join(tmpdir(), "sluice-http-store-"));
const cwd = process.cwd();
let store: MetricsStore;
let q: MetricsQueries;
let runId: string;

beforeAll(async () => {
  process.chdir(home);
  process.env.SLUICE_FIXTURE_ROWS = "20000";
  process.env.SLUICE_FIXTURE_DELAY_MS = "5";
  const p = (await import("../fixtures/http/alerting.ts")).default;
  store = await openMetricsStore(home);
  const bus = new EventBus();
  store.attach(bus);
  for (let i = 0; i < 2; i++) runId = (await runPipeline(p, { bus, home, sampleResources: false })).runId;
  // An alert as the store's alert engine raises it (ids are `<runId>/<rule>/<stage>`).
  bus.publish({
    kind: "alert.raised",
    ts: Date.now(),
    runId,
    pipeline: "http-fixture",
    alertId: `${runId}/deadLetterRate/source`,
    rule: "deadLetterRate",
    severity: "critical",
    stage: "source",
    value: 0.11,
    threshold: 0.05,
    message: "dead-letter rate of source is 11.1% (critical at 5.0%)",
  });
  await store.flush();
  q = storeQueries(store);
});
afterAll(async () => {
  await store?.close();
  process.chdir(cwd);
  rmSync(home, { recursive: true, force: true });
});

describe("storeQueries", () => {
  it("series figures equal the store's stage_metrics_by view, for raw and rollup buckets", async () => {
    const from = Date.now() - 3600_000;
    const to = Date.now() + 60_000;
    const metrics: SeriesMetric[] = [
      "rows_per_s",
      "bytes_per_s",
      "rows_in",
      "dead_letter_rate",
      "busy_share",
      "mean_ms",
      "max_ms",
      "p50_ms",
      "p99_ms",
    ];
    for (const bucketS of [1, 60]) {
      const view = await store.query(
        "SELECT *, epoch_ms(bucket) AS t FROM stage_metrics_by(to_seconds(CAST($w AS BIGINT))) WHERE run_id = $run ORDER BY bucket, stage",
        { w: bucketS, run: runId },
      );
      expect(view.rows.length).toBeGreaterThan(0);
      for (const metric of metrics) {
        const points = await q.series({ run: runId, metric, from, to, bucketS, limit: 10_000 });
        expect(points.length, `${metric}/${bucketS}`).toBe(view.rows.length);
        for (const pt of points) {
          const row = view.rows.find((r) => r.stage === pt.stage && r.t === pt.t);
          expect(row, `${metric} ${pt.stage} ${pt.t}`).toBeDefined();
          const want = row![metric] as number | null;
          if (want === null) expect(pt.value).toBeNull();
          else expect(pt.value, `${metric} ${pt.stage}`).toBeCloseTo(want, 6);
        }
      }
    }
  });

  it("lists runs and pages events; unknown runs are undefined", async () => {
    const runs = await q.runs({ limit: 10 });
    expect(runs.map((r) => r.runId)).toContain(runId);
    expect(runs[0].runId > runs[1].runId).toBe(true);
    expect(await q.runs({ limit: 10, before: runs[0].runId })).toHaveLength(1);
    const ev = await q.events(runId, { limit: 5, kinds: ["stage.progress"] });
    expect(ev!.every((e) => e.kind === "stage.progress")).toBe(true);
    const more = await q.events(runId, { limit: 5, after: ev!.at(-1)!.seq });
    expect(more![0].seq).toBeGreaterThan(ev!.at(-1)!.seq);
    expect(await q.events("20990101T000000000Z-none", { limit: 5 })).toBeUndefined();
    expect(await q.summary("20990101T000000000Z-none")).toBeUndefined();
  });

  it("hostile values are bound parameters: no error, no rows, the tables intact", async () => {
    for (const bad of ["' OR 1=1 --", "x'); DROP TABLE stage_progress; --", "$run", "\\"]) {
      expect(await q.runs({ limit: 5, pipeline: bad })).toEqual([]);
      expect(
        await q.series({ run: bad, metric: "p99_ms", from: 0, to: Date.now(), bucketS: 3600, limit: 10 }),
      ).toEqual([]);
      expect(await q.events(bad, { limit: 5 })).toBeUndefined();
    }
    expect((await q.runs({ limit: 10 })).length).toBe(2);
  });

  it("serves the API over the store: run projection, alerts, bottlenecks, recommendations", async () => {
    const { app } = createApp({ metrics: q });
    const run = JSON.parse(await (await app.request(`/api/runs/${runId}`)).text());
    expect(run).toMatchObject({ runId, status: "completed", rowsIn: 20_000, deadLettered: 2000 });
    const alerts = JSON.parse(await (await app.request(`/api/alerts?state=all&run=${runId}`)).text());
    expect(alerts.items[0]).toMatchObject({ rule: "deadLetterRate", severity: "critical", resolvedAt: null });
    const active = JSON.parse(await (await app.request(`/api/alerts?run=${runId}`)).text());
    expect(active.items.map((a: { alertId: string }) => a.alertId)).toEqual([
      `${runId}/deadLetterRate/source`,
    ]);
    expect((await app.request(`/api/bottlenecks?run=${runId}`)).status).toBe(200);
    const recs = JSON.parse(await (await app.request(`/api/recommendations?run=${runId}`)).text());
    expect(Array.isArray(recs)).toBe(true);
    expect((await app.request("/api/baselines?pipeline=http-fixture")).status).toBe(200);
    expect((await app.request(`/api/regressions?run=${runId}`)).status).toBe(200);
    expect((await app.request("/api/benchmarks")).status).toBe(200);
  });

  it("serves trends per pipeline and stage, with a validated query", async () => {
    const { app } = createApp({ metrics: q });
    const r = await app.request("/api/trends?pipeline=http-fixture");
    expect(r.status).toBe(200);
    const trends = JSON.parse(await r.text()) as Array<Record<string, unknown>>;
    // Two completed runs: figures and slopes, too few for a direction.
    expect(trends.filter((t) => t.stage === "*").map((t) => t.metric)).toEqual(
      expect.arrayContaining(["rows_per_s", "p99_ms"]),
    );
    for (const t of trends) expect(t).toMatchObject({ pipeline: "http-fixture", runs: 2, direction: null });
    expect(trends.find((t) => t.stage === "*" && t.metric === "rows_per_s")?.lastRunId).toBe(runId);
    const one = JSON.parse(
      await (await app.request("/api/trends?pipeline=http-fixture&stage=sink&runs=5")).text(),
    );
    expect(new Set(one.map((t: { stage: string }) => t.stage))).toEqual(new Set(["sink"]));
    const bad = await app.request("/api/trends?runs=1");
    expect(bad.status).toBe(400);
    expect(JSON.parse(await bad.text()).error.field).toBe("query.runs");
    const spec = JSON.parse(await (await app.request("/openapi.json")).text());
    expect(Object.keys(spec.paths)).toContain("/api/trends");
  });
});
