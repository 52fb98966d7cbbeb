/**
 * Remote workers of a distributed parallelMap (`cluster.worker`): the store's
 * `cluster_worker_totals` view sums their interval deltas per run, stage and
 * worker, keeps the last state and divides busy time by the run's duration;
 * the run report carries the same rows, and the run projection's fold gives
 * the same totals.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRun } from "../../src/events/projection.ts";
import type { SluiceEvent } from "../../src/events/schema.ts";
import { type MetricsStore, openMetricsStore } from "../../src/metrics/store.ts";
import { clusterWorker, ev, runEnded, runStarted, T0, tempHome } from "./fixtures.ts";

const home = tempHome("cluster-workers");
let store: MetricsStore;

const R = { runId: "run-cw", pipeline: "orders" };
const PLAIN = { runId: "run-plain", pipeline: "orders" };
const A = { host: "box-a", pid: 101 };
const B = { host: "box-b", pid: 202, runtime: "bun" };

const events: SluiceEvent[] = [
  runStarted(R, T0, { stages: ["1:score"] }),
  clusterWorker(R, T0 + 1000, { ...A, stage: "1:score", tasks: 4, records: 400, busyMs: 900 }),
  clusterWorker(R, T0 + 1000, { ...B, stage: "1:score", tasks: 2, records: 200, busyMs: 500, failures: 1 }),
  clusterWorker(R, T0 + 2000, {
    ...A,
    stage: "1:score",
    tasks: 3,
    records: 300,
    busyMs: 800,
    redelivered: 1,
  }),
  clusterWorker(R, T0 + 2000, { ...B, stage: "1:score", state: "hung", busyMs: 100, redelivered: 2 }),
  clusterWorker(R, T0 + 3000, { ...B, stage: "1:score", state: "gone" }),
  runEnded(R, T0 + 4000, { durationMs: 4000 }),
  runStarted(PLAIN, T0),
  ev(PLAIN, T0 + 500, { kind: "log", level: "info", message: "no cluster here" }),
  runEnded(PLAIN, T0 + 1000),
];

beforeAll(async () => {
  store = await openMetricsStore(home.dir, { flushIntervalMs: 3_600_000 });
  await store.ingest(events);
  await store.flush();
});

afterAll(async () => {
  await store.close();
  home.cleanup();
});

const expected = [
  {
    stage: "1:score",
    workerId: "box-a:101:node",
    host: "box-a",
    pid: 101,
    runtime: "node",
    state: "active",
    tasks: 7,
    records: 700,
    failures: 0,
    busyMs: 1700,
    busyShare: 1700 / 4000,
    redelivered: 1,
  },
  {
    stage: "1:score",
    workerId: "box-b:202:bun",
    host: "box-b",
    pid: 202,
    runtime: "bun",
    state: "gone",
    tasks: 2,
    records: 200,
    failures: 1,
    busyMs: 600,
    busyShare: 600 / 4000,
    redelivered: 2,
  },
];

describe("cluster workers in the metrics store", () => {
  it("cluster_worker_totals: sums per stage and worker, the last state, busy share of the run", async () => {
    const { rows } = await store.query(
      `SELECT worker_id, host, pid, runtime, state, events, tasks, records, failures, busy_ms, redelivered, busy_share
       FROM cluster_worker_totals WHERE run_id = 'run-cw' ORDER BY worker_id`,
    );
    expect(rows).toEqual([
      {
        worker_id: "box-a:101:node",
        host: "box-a",
        pid: 101,
        runtime: "node",
        state: "active",
        events: 2,
        tasks: 7,
        records: 700,
        failures: 0,
        busy_ms: 1700,
        redelivered: 1,
        busy_share: 1700 / 4000,
      },
      {
        worker_id: "box-b:202:bun",
        host: "box-b",
        pid: 202,
        runtime: "bun",
        state: "gone",
        events: 3,
        tasks: 2,
        records: 200,
        failures: 1,
        busy_ms: 600,
        redelivered: 2,
        busy_share: 600 / 4000,
      },
    ]);
  });

  it("the events view lists them with their stage", async () => {
    const { rows } = await store.query(
      "SELECT count(*) AS n, any_value(stage) AS stage FROM events WHERE kind = 'cluster.worker'",
    );
    expect(rows).toEqual([{ n: 5, stage: "1:score" }]);
  });

  it("the run report carries them; a run without remote workers has none", async () => {
    const r = await store.summary("run-cw");
    expect(r?.clusterWorkers?.map(({ events: _e, firstAt: _f, lastAt: _l, ...w }) => w)).toEqual(expected);
    expect(r?.clusterWorkers?.map((w) => w.events)).toEqual([2, 3]);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect((await store.summary("run-plain"))?.clusterWorkers).toEqual([]);
  });

  it("the run projection folds the same totals", () => {
    const state = projectRun(events.filter((e) => e.runId === "run-cw"));
    expect(
      state?.clusterWorkers.map(({ events: _e, firstAt: _f, lastAt: _l, ...w }) => ({
        ...w,
        busyShare: w.busyMs / 4000,
      })),
    ).toEqual(expected);
    expect(state?.clusterWorkers[1]).toMatchObject({ events: 3, firstAt: T0 + 1000, lastAt: T0 + 3000 });
    expect(state?.durationMs).toBe(4000);
    expect(projectRun(events.filter((e) => e.runId === "run-plain"))?.clusterWorkers).toEqual([]);
  });
});
