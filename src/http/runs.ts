/**
 * @module `RunsSource` implementations. `storeRuns` answers from the metrics
 * store (past runs, `sluice serve`); `liveRuns` puts the runs this process is
 * executing first and falls back to the store for the others, so the live
 * server lists, projects and pages through old and new runs alike.
 */
import {
  type ClusterWorkerTotals,
  emptyRunState,
  type RunState,
  type StageState,
} from "../events/projection.ts";
import { UnavailableError } from "./errors.ts";
import type { LiveState } from "./live.ts";
import type {
  EventItem,
  EventQuery,
  Json,
  MetricsQueries,
  RunListItem,
  RunListQuery,
  RunsSource,
} from "./types.ts";

const STATUSES = new Set(["running", "completed", "failed", "cancelled", "interrupted"]);

const n = (v: Json | undefined): number => (typeof v === "number" ? v : 0);
const s = (v: Json | undefined): string | undefined => (typeof v === "string" ? v : undefined);
const ms = (v: Json | undefined): number | undefined => {
  const t =
    typeof v === "string"
      ? Date.parse(v.endsWith("Z") || /[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`)
      : Number.NaN;
  return Number.isFinite(t) ? t : undefined;
};

const rows = (v: Json | undefined): ReadonlyArray<{ readonly [k: string]: Json }> =>
  Array.isArray(v) ? (v as ReadonlyArray<{ readonly [k: string]: Json }>) : [];

/** The run projection rebuilt from the store's run report (`summary`). */
export function runStateFromReport(report: { readonly [k: string]: Json }): RunState | undefined {
  const run = report.run as { readonly [k: string]: Json } | undefined;
  if (!run || typeof run.runId !== "string") return undefined;
  const state = emptyRunState(run.runId, s(run.pipeline) ?? "");
  const status = s(run.status) ?? "running";
  state.status = (STATUSES.has(status) ? status : "running") as RunState["status"];
  state.startedAt = ms(run.startedAt);
  state.endedAt = ms(run.endedAt);
  state.lastEventAt = ms(run.lastEventAt);
  state.attempts = n(run.attempts);
  state.source = s(run.source);
  state.sink = s(run.sink);
  state.runtime = run.runtime ? `${s(run.runtime)} ${s(run.runtimeVersion) ?? ""}`.trim() : undefined;
  state.rowsIn = n(run.rowsIn);
  state.rowsOut = n(run.rowsOut);
  state.filtered = n(run.filtered);
  state.deadLettered = n(run.deadLettered);
  state.totalBytes = typeof run.sourceBytes === "number" ? run.sourceBytes : undefined;
  state.error = s(run.error);
  state.definitionHash = s(run.definitionHash);
  const stages = Array.isArray(report.stages) ? (report.stages as ReadonlyArray<{ [k: string]: Json }>) : [];
  state.stages = stages.map(
    (x): StageState => ({
      stage: s(x.stage) ?? "",
      rowsIn: n(x.rowsIn),
      rowsOut: n(x.rowsOut),
      filtered: n(x.filtered),
      deadLettered: n(x.deadLettered),
      errors: n(x.errors),
      chunks: n(x.chunks),
      busyMs: n(x.busyMs),
    }),
  );
  state.durationMs = typeof run.durationMs === "number" ? run.durationMs : undefined;
  state.clusterWorkers = rows(report.clusterWorkers).map(
    (w): ClusterWorkerTotals => ({
      stage: s(w.stage) ?? "",
      workerId: s(w.workerId) ?? "",
      host: s(w.host) ?? "",
      pid: n(w.pid),
      runtime: s(w.runtime) ?? "",
      state: w.state === "hung" || w.state === "gone" ? w.state : "active",
      tasks: n(w.tasks),
      records: n(w.records),
      failures: n(w.failures),
      busyMs: n(w.busyMs),
      redelivered: n(w.redelivered),
      events: n(w.events),
      firstAt: ms(w.firstAt) ?? 0,
      lastAt: ms(w.lastAt) ?? 0,
    }),
  );
  const alerts = Array.isArray(report.alerts) ? (report.alerts as ReadonlyArray<{ [k: string]: Json }>) : [];
  state.activeAlerts = alerts.filter((a) => a.resolvedAt === null).map((a) => s(a.alertId) ?? "");
  return state;
}

/** Runs from the store alone (`sluice serve`); 503 while no store is open. */
export function storeRuns(store: () => MetricsQueries | undefined): RunsSource {
  const open = (): MetricsQueries => {
    const m = store();
    if (!m) throw new UnavailableError("no metrics store is open in this server");
    return m;
  };
  return {
    list: async (q) => open().runs(q),
    async get(runId) {
      const report = await open().summary(runId);
      return report ? runStateFromReport(report) : undefined;
    },
    events: async (runId, q) => open().events(runId, q),
  };
}

function liveItem(r: RunState): RunListItem {
  return {
    runId: r.runId,
    pipeline: r.pipeline,
    status: r.status,
    startedAt: r.startedAt === undefined ? null : new Date(r.startedAt).toISOString(),
    endedAt: r.endedAt === undefined ? null : new Date(r.endedAt).toISOString(),
    rowsIn: r.rowsIn,
    rowsOut: r.rowsOut,
    deadLettered: r.deadLettered,
    live: true,
  };
}

export interface LiveRunsOptions {
  readonly live: LiveState;
  /** The store for runs this process did not execute; optional. */
  readonly store?: () => MetricsQueries | undefined;
  /** Cancels the live run with this id (stops reading, takes a checkpoint). */
  readonly cancel?: (runId: string) => boolean;
}

export function liveRuns(o: LiveRunsOptions): RunsSource {
  return {
    async list(q: RunListQuery) {
      const mine = o.live
        .runs()
        .filter(
          (r) =>
            (!q.pipeline || r.pipeline === q.pipeline) &&
            (!q.status || r.status === q.status) &&
            (!q.before || r.runId < q.before),
        )
        .map(liveItem);
      const store = o.store?.();
      const theirs = store ? await store.runs(q) : [];
      const seen = new Set(mine.map((r) => r.runId));
      const all = [...mine, ...theirs.filter((r) => !seen.has(r.runId))];
      all.sort((a, b) => (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0));
      return all.slice(0, q.limit);
    },
    async get(runId) {
      const live = o.live.get(runId);
      if (live) return live;
      const store = o.store?.();
      const report = store ? await store.summary(runId) : undefined;
      return report ? runStateFromReport(report) : undefined;
    },
    async events(runId: string, q: EventQuery): Promise<readonly EventItem[] | undefined> {
      const live = o.live.events(runId, q);
      if (live) return live;
      const store = o.store?.();
      return store ? store.events(runId, q) : undefined;
    },
    cancel: o.cancel ? async (runId) => o.cancel?.(runId) ?? false : undefined,
  };
}
