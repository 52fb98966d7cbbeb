/** Test doubles for the HTTP app: a metrics store that records every call, and a bus with a sample run. */
import { EventBus } from "../../src/events/bus.ts";
import type { EventInput, SluiceEvent } from "../../src/events/schema.ts";
import type { AlertItem, Json, MetricsQueries, RunListItem } from "../../src/http/types.ts";
import { Histogram } from "../../src/metrics/histogram.ts";

export interface Call {
  method: string;
  args: unknown[];
}

/** A `MetricsQueries` answering fixed data; `calls` lists what reached it (no query for a rejected request). */
export function fakeStore(): MetricsQueries & { calls: Call[]; rulesValue: Json } {
  const calls: Call[] = [];
  const rec = (method: string, args: unknown[]) => calls.push({ method, args });
  const runs: RunListItem[] = Array.from({ length: 5 }, (_, i) => ({
    runId: `20260101T00000${i}000Z-abc00${i}`,
    pipeline: "orders",
    status: "completed",
    startedAt: "2026-01-01T00:00:00.000Z",
    endedAt: "2026-01-01T00:01:00.000Z",
    rowsIn: 100 * i,
    rowsOut: 90 * i,
    deadLettered: i,
    live: false,
  }));
  const alert: AlertItem = {
    alertId: "a-1",
    runId: runs[0].runId,
    pipeline: "orders",
    rule: "dead_letter_rate",
    severity: "critical",
    stage: "source",
    raisedAt: "2026-01-01T00:00:10.000Z",
    resolvedAt: null,
    value: 0.2,
    threshold: 0.05,
    message: "dead-letter rate 20% > 5%",
    key: "0001",
  };
  const store: MetricsQueries & { calls: Call[]; rulesValue: Json } = {
    calls,
    rulesValue: { rules: { deadLetterRate: { critical: 0.05 } } } as Json,
    async ping() {
      rec("ping", []);
    },
    async runs(q) {
      rec("runs", [q]);
      return runs
        .filter((r) => (!q.before || r.runId < q.before) && (!q.pipeline || r.pipeline === q.pipeline))
        .sort((a, b) => (a.runId < b.runId ? 1 : -1))
        .slice(0, q.limit);
    },
    async summary(runId) {
      rec("summary", [runId]);
      const r = runs.find((x) => x.runId === runId);
      if (!r) return undefined;
      return {
        run: { runId, pipeline: r.pipeline, status: r.status, rowsIn: r.rowsIn, rowsOut: r.rowsOut },
        stages: [{ stage: "source", rowsIn: 10, rowsOut: 10 }],
        alerts: [],
      };
    },
    async events(runId, q) {
      rec("events", [runId, q]);
      if (!runs.some((x) => x.runId === runId)) return undefined;
      return Array.from({ length: 12 }, (_, i) => ({
        seq: i + 1,
        kind: "log",
        ts: "2026-01-01T00:00:00.000Z",
        stage: null,
        data: { message: `m${i + 1}` },
      }))
        .filter((e) => e.seq > (q.after ?? 0))
        .slice(0, q.limit);
    },
    async series(q) {
      rec("series", [q]);
      return [{ run: q.run ?? "r", stage: "source", t: q.from, value: 42 }];
    },
    async alerts(q) {
      rec("alerts", [q]);
      return [alert];
    },
    async bottlenecks(runId) {
      rec("bottlenecks", [runId]);
      return runId === runs[0].runId
        ? { runId, bottleneck: { stage: "map", kind: "busiest" }, evidence: [] }
        : undefined;
    },
    async recommendations(runId) {
      rec("recommendations", [runId]);
      return runId === runs[0].runId ? [{ message: "raise workers" }] : undefined;
    },
    async baselines(q) {
      rec("baselines", [q]);
      return [];
    },
    async regressions(q) {
      rec("regressions", [q]);
      return [];
    },
    async benchmarks(q) {
      rec("benchmarks", [q]);
      return [];
    },
    async rules(q) {
      rec("rules", [q]);
      return store.rulesValue;
    },
    async setRules(rules) {
      rec("setRules", [rules]);
      store.rulesValue = rules;
      return rules;
    },
    async resolveAlert(id) {
      rec("resolveAlert", [id]);
      return id === "a-1";
    },
  };
  return store;
}

/** A bus and a publisher that stamps events of one run. */
export function liveRun(runId = "20260102T000000000Z-live01", pipeline = "orders") {
  const bus = new EventBus();
  let t = Date.parse("2026-01-02T00:00:00Z");
  const emit = (e: EventInput) => {
    t += 100;
    bus.publish({ ...e, ts: e.ts ?? t, runId, pipeline } as SluiceEvent);
  };
  const hist = new Histogram();
  for (const ms of [0.5, 1, 2, 4, 8]) hist.record(ms);
  const start = () =>
    emit({
      kind: "run.started",
      stages: ["map"],
      source: "csv",
      sink: "ndjson",
      runtime: "node",
      runtimeVersion: "20",
    });
  const progress = (stage = "map") =>
    emit({
      kind: "stage.progress",
      stage,
      index: 1,
      chunks: 2,
      rowsIn: 1000,
      rowsOut: 990,
      filtered: 5,
      deadLettered: 5,
      errors: 5,
      bytes: 50_000,
      busyMs: 30,
      intervalMs: 1000,
      latency: hist.toData(),
    });
  return { bus, emit, start, progress, runId, pipeline };
}
