/**
 * `GET /api/runs/{id}/workers` through `app.request()`: a run's remote
 * workers from synthetic `cluster.worker` events, live (the bus's projection)
 * and past (a real metrics store) with the same figures; an empty list for a
 * run without; strict validation (id, unknown query field), 404 for an
 * unknown run; the route in the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBus } from "../../src/events/bus.ts";
import type { SluiceEvent } from "../../src/events/schema.ts";
import { createApp } from "../../src/http/app.ts";
import { storeQueries } from "../../src/http/store-queries.ts";
import { type MetricsStore, openMetricsStore } from "../../src/metrics/store.ts";
import { clusterWorker, ev, runEnded, runStarted, T0, tempHome } from "../metrics/fixtures.ts";

const home = tempHome("http-workers");
const CW = { runId: "20260105T100030000Z-cw0001", pipeline: "scores" };
const PLAIN = { runId: "20260105T100030000Z-b00001", pipeline: "scores" };
const A = { stage: "2:score", host: "box-a", pid: 101 };
const B = { stage: "2:score", host: "box-b", pid: 202, runtime: "deno" };

const clustered: SluiceEvent[] = [
  runStarted(CW, T0, { stages: ["1:parse", "2:score"] }),
  clusterWorker(CW, T0 + 1000, { ...A, tasks: 5, records: 500, busyMs: 1000 }),
  clusterWorker(CW, T0 + 1000, { ...B, tasks: 1, records: 100, busyMs: 200, failures: 1 }),
  clusterWorker(CW, T0 + 2000, { ...A, tasks: 5, records: 500, busyMs: 1000, redelivered: 2 }),
  clusterWorker(CW, T0 + 2000, { ...B, state: "hung" }),
  runEnded(CW, T0 + 4000, { durationMs: 4000 }),
];
const plain: SluiceEvent[] = [
  runStarted(PLAIN, T0),
  ev(PLAIN, T0 + 10, { kind: "log", level: "info", message: "local" }),
  runEnded(PLAIN, T0 + 1000),
];

const expected = [
  {
    stage: "2:score",
    workerId: "box-a:101:node",
    host: "box-a",
    pid: 101,
    runtime: "node",
    state: "active",
    tasks: 10,
    records: 1000,
    failures: 0,
    busyMs: 2000,
    busyShare: 0.5,
    redelivered: 2,
    firstAt: T0 + 1000,
    lastAt: T0 + 2000,
  },
  {
    stage: "2:score",
    workerId: "box-b:202:deno",
    host: "box-b",
    pid: 202,
    runtime: "deno",
    state: "hung",
    tasks: 1,
    records: 100,
    failures: 1,
    busyMs: 200,
    busyShare: 0.05,
    redelivered: 0,
    firstAt: T0 + 1000,
    lastAt: T0 + 2000,
  },
];

let store: MetricsStore;
beforeAll(async () => {
  store = await openMetricsStore(home.dir, { flushIntervalMs: 3_600_000 });
  await store.ingest([...clustered, ...plain]);
  await store.flush();
});
afterAll(async () => {
  await store.close();
  home.cleanup();
});

const get = async (app: { request(p: string): Response | Promise<Response> }, path: string) => {
  const res = await app.request(path);
  return { status: res.status, body: await res.json() };
};

describe("GET /api/runs/{id}/workers", () => {
  it("a live run: the bus's projection, busy time over the run's duration so far", async () => {
    const bus = new EventBus();
    const { app, close } = createApp({ bus });
    // Live, before the run ends: 2 s run so far.
    for (const e of clustered.slice(0, -1)) bus.publish(e);
    const live = await get(app, `/api/runs/${CW.runId}/workers`);
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({
      runId: CW.runId,
      pipeline: "scores",
      status: "running",
      durationMs: 2000,
    });
    expect(live.body.workers.map((w: { busyShare: number }) => w.busyShare)).toEqual([1, 0.1]);
    bus.publish(clustered[clustered.length - 1]);
    const ended = await get(app, `/api/runs/${CW.runId}/workers`);
    expect(ended.body).toMatchObject({ status: "completed", durationMs: 4000 });
    expect(ended.body.workers).toEqual(expected);
    close();
  });

  it("a past run: the store's figures, equal to the live ones; an empty list for a run without", async () => {
    const { app } = createApp({ metrics: storeQueries(store) });
    const past = await get(app, `/api/runs/${CW.runId}/workers`);
    expect(past.status).toBe(200);
    expect(past.body).toEqual({
      runId: CW.runId,
      pipeline: "scores",
      status: "completed",
      durationMs: 4000,
      workers: expected,
    });
    const none = await get(app, `/api/runs/${PLAIN.runId}/workers`);
    expect(none.body).toMatchObject({ runId: PLAIN.runId, workers: [] });
  });

  it("validates strictly: a bad id is a 400 naming it, an unknown field a 400, an unknown run a 404", async () => {
    const { app } = createApp({ metrics: storeQueries(store) });
    for (const bad of ["' OR 1=1 --", "x'; DROP TABLE runs; --", ".hidden", "a b"]) {
      const r = await get(app, `/api/runs/${encodeURIComponent(bad)}/workers`);
      expect([400, 404], bad).toContain(r.status);
      if (r.status === 400) expect(r.body.error.field).toBe("path.id");
    }
    const extra = await get(app, `/api/runs/${CW.runId}/workers?stage=2:score`);
    expect(extra.status).toBe(400);
    expect(extra.body.error.field).toBe("query.stage");
    expect((await get(app, "/api/runs/20990101T000000000Z-ffffff/workers")).status).toBe(404);
  });

  it("is in the OpenAPI document with its response shape", async () => {
    const { app } = createApp({ metrics: storeQueries(store) });
    const doc = (await get(app, "/openapi.json")).body;
    const op = doc.paths["/api/runs/{id}/workers"].get;
    expect(op.parameters.map((p: { name: string; in: string }) => `${p.in}.${p.name}`)).toEqual(["path.id"]);
    const schema = op.responses["200"].content["application/json"].schema;
    expect(Object.keys(schema.properties.workers.items.properties)).toEqual(Object.keys(expected[0]));
    expect(op.responses["404"]).toBeDefined();
  });
});
