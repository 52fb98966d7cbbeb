/** Route tests through `app.request()`: lists and cursors, projections, events, series, alerts, insights, ETag, gzip, OpenAPI, SSE batching on virtual time. */
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { VirtualClock } from "../../src/testing/virtual-clock.ts";
import { fakeStore, liveRun } from "./fakes.ts";

const json = async (r: Response) => JSON.parse(await r.text());

describe("HTTP routes", () => {
  it("health, ready, 404 as JSON", async () => {
    const { app } = createApp({ metrics: fakeStore() });
    expect(await json(await app.request("/health"))).toEqual({ status: "ok" });
    expect((await app.request("/ready")).status).toBe(200);
    const nf = await app.request("/nope");
    expect(nf.status).toBe(404);
    expect((await json(nf)).error.code).toBe("NotFoundError");
    // No store and no live bus: not ready, and store routes say so.
    const bare = createApp({}).app;
    expect((await bare.request("/ready")).status).toBe(503);
    expect((await bare.request("/api/alerts")).status).toBe(503);
  });

  it("lists runs newest first with a cursor that pages through all of them", async () => {
    const { app } = createApp({ metrics: fakeStore() });
    const ids: string[] = [];
    let url = "/api/runs?limit=2";
    for (let pages = 0; pages < 10; pages++) {
      const page = await json(await app.request(url));
      ids.push(...page.items.map((r: { runId: string }) => r.runId));
      if (!page.next) break;
      url = `/api/runs?limit=2&cursor=${page.next}`;
    }
    expect(ids).toHaveLength(5);
    expect([...ids].sort().reverse()).toEqual(ids);
    const bad = await app.request("/api/runs?cursor=bm90LWEtY3Vyc29y");
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.field).toBe("query.cursor");
  });

  it("serves the live run's projection and events, filtered by kind and paged", async () => {
    const run = liveRun();
    const { app } = createApp({ metrics: fakeStore(), bus: run.bus });
    run.start();
    for (let i = 0; i < 5; i++) run.progress();
    const state = await json(await app.request(`/api/runs/${run.runId}`));
    expect(state.status).toBe("running");
    expect(state.stages.find((s: { stage: string }) => s.stage === "map").rowsIn).toBe(5000);
    const p1 = await json(await app.request(`/api/runs/${run.runId}/events?kind=stage.progress&limit=3`));
    expect(p1.items.map((e: { seq: number }) => e.seq)).toEqual([2, 3, 4]);
    const p2 = await json(
      await app.request(`/api/runs/${run.runId}/events?kind=stage.progress&limit=3&cursor=${p1.next}`),
    );
    expect(p2.items.map((e: { seq: number }) => e.seq)).toEqual([5, 6]);
    expect(p2.next).toBeNull();
    // A past run comes from the store.
    const past = await json(await app.request("/api/runs/20260101T000001000Z-abc001"));
    expect(past.pipeline).toBe("orders");
    expect((await app.request("/api/runs/20990101T000000000Z-zzzzzz")).status).toBe(404);
  });

  it("series: allow-listed metric and bucket, aligned range, reused answer within the cache interval", async () => {
    const clock = new VirtualClock(Date.parse("2026-01-01T01:00:00Z"));
    const store = fakeStore();
    const { app } = createApp({ metrics: store, clock });
    const r = await json(await app.request("/api/metrics?run=r1&stage=map&metric=p99_ms&bucket=1m"));
    expect(r.metric).toBe("p99_ms");
    expect(r.to - r.from).toBe(3600_000);
    expect(r.points[0].value).toBe(42);
    await app.request("/api/metrics?run=r1&stage=map&metric=p99_ms&bucket=1m");
    expect(store.calls.filter((c) => c.method === "series")).toHaveLength(1);
    const q = store.calls.find((c) => c.method === "series")?.args[0];
    expect(q).toMatchObject({ run: "r1", stage: "map", metric: "p99_ms", bucketS: 60 });
    const tooMany = await app.request("/api/metrics?bucket=1s&from=0&to=86400000");
    expect(tooMany.status).toBe(400);
    expect((await json(tooMany)).error.field).toBe("query.bucket");
    const tooLong = await app.request("/api/metrics?bucket=1d&from=0&to=31536000000");
    expect((await json(tooLong)).error.field).toBe("query.from");
  });

  it("alerts, insights and rules read through the store", async () => {
    const store = fakeStore();
    const { app } = createApp({ metrics: store });
    const alerts = await json(await app.request("/api/alerts"));
    expect(alerts.items[0]).toMatchObject({ alertId: "a-1", severity: "critical" });
    expect(alerts.items[0].key).toBeUndefined();
    const run = "20260101T000000000Z-abc000";
    expect((await json(await app.request(`/api/bottlenecks?run=${run}`))).bottleneck.stage).toBe("map");
    expect(await json(await app.request(`/api/recommendations?run=${run}`))).toEqual([
      { message: "raise workers" },
    ]);
    expect((await app.request("/api/bottlenecks?run=20990101T000000000Z-none")).status).toBe(404);
    expect((await app.request("/api/bottlenecks")).status).toBe(400);
    for (const p of ["/api/baselines", "/api/regressions", "/api/benchmarks", "/api/rules"])
      expect((await app.request(p)).status, p).toBe(200);
  });

  it("ETag answers 304 for an unchanged body; large JSON is gzip-compressed", async () => {
    const { app } = createApp({ metrics: fakeStore() });
    const first = await app.request("/api/runs");
    const etag = first.headers.get("ETag");
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const again = await app.request("/api/runs", { headers: { "If-None-Match": etag! } });
    expect(again.status).toBe(304);
    const doc = await app.request("/openapi.json", { headers: { "Accept-Encoding": "gzip" } });
    expect(doc.headers.get("Content-Encoding")).toBe("gzip");
    const body = JSON.parse(gunzipSync(Buffer.from(await doc.arrayBuffer())).toString("utf8"));
    expect(body.openapi).toBe("3.1.0");
  });

  it("the OpenAPI document lists every route with its parameters from the zod schemas", async () => {
    const { app } = createApp({ metrics: fakeStore() });
    const doc = await json(await app.request("/openapi.json"));
    for (const p of [
      "/health",
      "/ready",
      "/metrics",
      "/api/runs",
      "/api/runs/{id}",
      "/api/runs/{id}/events",
      "/api/runs/{id}/stream",
      "/api/metrics",
      "/api/alerts",
      "/api/alerts/{id}/resolve",
      "/api/rules",
      "/api/bottlenecks",
      "/api/recommendations",
      "/api/baselines",
      "/api/regressions",
      "/api/benchmarks",
    ])
      expect(doc.paths[p], p).toBeDefined();
    const series = doc.paths["/api/metrics"].get.parameters.map((x: { name: string }) => x.name);
    expect(series).toEqual(expect.arrayContaining(["run", "stage", "metric", "from", "to", "bucket"]));
    const metric = doc.paths["/api/metrics"].get.parameters.find(
      (x: { name: string }) => x.name === "metric",
    );
    expect(metric.schema.enum).toContain("p99_ms");
    expect(doc.paths["/api/rules"].put.responses["403"]).toBeDefined();
    expect(doc.paths["/health"].get.security).toEqual([]);
  });

  it("serves the dashboard page, script and style under a strict CSP; the script parses", async () => {
    const { app } = createApp({});
    const page = await app.request("/");
    expect(page.headers.get("Content-Security-Policy")).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script src="/assets/app.js" defer></script>');
    const js = await (await app.request("/assets/app.js")).text();
    expect(() => new Function(js)).not.toThrow();
    expect((await app.request("/assets/app.css")).headers.get("Content-Type")).toMatch(/^text\/css/);
  });

  it("SSE: a snapshot, then one batch per 100 ms of virtual time with that interval's events", async () => {
    const clock = new VirtualClock(Date.parse("2026-01-02T00:00:00Z"));
    const run = liveRun();
    const { app, close } = createApp({ bus: run.bus, clock });
    run.start();
    const res = await app.request(`/api/runs/${run.runId}/stream?kind=stage.progress,alert.raised`);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const read = async () => decoder.decode((await reader.read()).value);
    expect(await read()).toContain("event: snapshot");
    run.progress();
    run.progress("sink");
    run.emit({ kind: "log", level: "info", message: "filtered out by kind" });
    await clock.advance(100);
    const batch = await read();
    expect(batch).toMatch(/^id: 1\nevent: batch\ndata: /);
    const events = JSON.parse(batch.split("data: ")[1]);
    expect(events.map((e: { kind: string; stage: string }) => `${e.kind}:${e.stage}`)).toEqual([
      "stage.progress:map",
      "stage.progress:sink",
    ]);
    await clock.advance(100); // nothing new: no message
    run.progress();
    await clock.advance(100);
    expect(await read()).toMatch(/^id: 2\n/);
    await reader.cancel();
    close();
  });
});
