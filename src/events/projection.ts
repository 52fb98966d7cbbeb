/**
 * @module Run state as a projection: a fold over the run's events. The same
 * fold runs live (subscribed to the bus) and after a restart over the journal
 * (`sluice replay`), so both give the same answer. Per-stage totals are the
 * sum of `stage.progress` deltas; when a resumed attempt starts from
 * checkpoint N, totals are reset to what checkpoint N recorded, so work done
 * after N by the crashed attempt (and done again) is not counted twice.
 * Remote workers' totals (`cluster.worker`) are summed per stage and worker
 * (`internal/cluster-fold.ts`).
 */
import { type ClusterWorkerTotals, foldClusterWorker } from "./internal/cluster-fold.ts";
import { countProgress, emptyCounts, type StageCounts } from "./internal/progress-fold.ts";
import type { EventOf, SluiceEvent } from "./schema.ts";

/** A stage's totals: the shared progress fold's counters (`cpuMs` once an event carries it). */
export interface StageState extends StageCounts {
  stage: string;
}

export type { ClusterWorkerTotals };

export interface RunState {
  runId: string;
  pipeline: string;
  /** `running` until `run.ended`; a crashed run stays `running` in its journal (resumable). */
  status: "running" | "completed" | "failed" | "cancelled" | "interrupted";
  startedAt?: number;
  endedAt?: number;
  lastEventAt?: number;
  /**
   * Time the run has run, as the metrics store's `runs` view counts it: the
   * ended attempts' durations plus, while an attempt has not ended, the time
   * from its start to the last event (a crash's downtime is not counted).
   */
  durationMs?: number;
  attempts: number;
  source?: string;
  sink?: string;
  runtime?: string;
  stages: StageState[];
  rowsIn: number;
  rowsOut: number;
  filtered: number;
  deadLettered: number;
  bytes: number;
  totalBytes?: number;
  lastCheckpoint?: { id: number; ts: number; sourceOffset: unknown; rowsIn: number };
  activeAlerts: string[];
  /** Remote workers of a distributed parallelMap, per stage and worker; empty for a run without. */
  clusterWorkers: ClusterWorkerTotals[];
  error?: string;
  definitionHash?: string;
}

export function emptyRunState(runId = "", pipeline = ""): RunState {
  return {
    runId,
    pipeline,
    status: "running",
    attempts: 0,
    stages: [],
    rowsIn: 0,
    rowsOut: 0,
    filtered: 0,
    deadLettered: 0,
    bytes: 0,
    activeAlerts: [],
    clusterWorkers: [],
  };
}

/** Folds events into run states, one per run id. */
export class RunProjection {
  readonly runs = new Map<string, RunState>();
  readonly #checkpoints = new Map<string, Map<number, EventOf<"checkpoint">["stageTotals"]>>();
  /** Per run: the ended attempts' durations, and the start of the attempt not yet ended. */
  readonly #clock = new Map<string, { ended: number; openSince?: number }>();

  apply(e: SluiceEvent): void {
    let s = this.runs.get(e.runId);
    if (!s) {
      s = emptyRunState(e.runId, e.pipeline);
      this.runs.set(e.runId, s);
    }
    s.lastEventAt = e.ts;
    this.#time(s, e);
    switch (e.kind) {
      case "run.started": {
        s.attempts++;
        s.status = "running";
        s.startedAt ??= e.ts;
        s.endedAt = undefined;
        s.error = undefined;
        s.source = e.source;
        s.sink = e.sink;
        s.runtime = `${e.runtime} ${e.runtimeVersion}`;
        s.totalBytes = e.sourceBytes;
        s.definitionHash = e.definitionHash;
        const known = new Set(s.stages.map((x) => x.stage));
        for (const name of ["source", ...e.stages, "sink"]) if (!known.has(name)) s.stages.push(stage(name));
        if (e.resumedFrom !== undefined) {
          const totals = this.#checkpoints.get(e.runId)?.get(e.resumedFrom);
          for (const st of s.stages) {
            const t = totals?.find((x) => x.stage === st.stage);
            Object.assign(st, stage(st.stage), t ?? {});
          }
        } else if (s.attempts === 1) for (const st of s.stages) Object.assign(st, stage(st.stage));
        recount(s);
        break;
      }
      case "stage.progress": {
        let st = s.stages.find((x) => x.stage === e.stage);
        if (!st) {
          st = stage(e.stage);
          s.stages.push(st);
        }
        countProgress(st, e);
        recount(s);
        break;
      }
      case "run.progress":
        s.bytes = e.bytes;
        s.totalBytes = e.totalBytes ?? s.totalBytes;
        break;
      case "checkpoint": {
        let m = this.#checkpoints.get(e.runId);
        if (!m) {
          m = new Map();
          this.#checkpoints.set(e.runId, m);
        }
        m.set(e.id, e.stageTotals);
        s.lastCheckpoint = { id: e.id, ts: e.ts, sourceOffset: e.sourceOffset, rowsIn: e.rowsIn };
        break;
      }
      case "run.ended":
        s.status = e.status;
        s.endedAt = e.ts;
        s.error = e.error;
        // The end event carries the authoritative totals of the last attempt.
        s.rowsIn = e.rowsIn;
        s.rowsOut = e.rowsOut;
        s.filtered = e.filtered;
        s.deadLettered = e.deadLettered;
        break;
      case "alert.raised":
        if (!s.activeAlerts.includes(e.alertId)) s.activeAlerts.push(e.alertId);
        break;
      case "alert.resolved":
        s.activeAlerts = s.activeAlerts.filter((a) => a !== e.alertId);
        break;
      case "cluster.worker":
        foldClusterWorker(s.clusterWorkers, e);
        break;
      default:
        break;
    }
  }

  get(runId: string): RunState | undefined {
    return this.runs.get(runId);
  }

  #time(s: RunState, e: SluiceEvent): void {
    let c = this.#clock.get(e.runId);
    if (!c) {
      c = { ended: 0 };
      this.#clock.set(e.runId, c);
    }
    if (e.kind === "run.started") c.openSince = e.ts;
    else if (e.kind === "run.ended") {
      c.ended += e.durationMs;
      c.openSince = undefined;
    }
    if (c.openSince !== undefined) s.durationMs = c.ended + Math.max(0, e.ts - c.openSince);
    else if (e.kind === "run.ended") s.durationMs = c.ended;
  }
}

function stage(name: string): StageState {
  return { stage: name, ...emptyCounts() };
}

function recount(s: RunState): void {
  const src = s.stages.find((x) => x.stage === "source");
  const sink = s.stages.find((x) => x.stage === "sink");
  s.rowsIn = src ? src.rowsOut + src.deadLettered : 0;
  s.rowsOut = sink ? sink.rowsOut : 0;
  s.filtered = s.stages.reduce((a, x) => a + x.filtered, 0);
  s.deadLettered = s.stages.reduce((a, x) => a + x.deadLettered, 0);
}

/** Projects one run's events (e.g. read from its journal). */
export function projectRun(events: Iterable<SluiceEvent>): RunState | undefined {
  const p = new RunProjection();
  let id: string | undefined;
  for (const e of events) {
    p.apply(e);
    id ??= e.runId;
  }
  return id === undefined ? undefined : p.get(id);
}
