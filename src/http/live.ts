/**
 * @module What the server knows from the live bus: the run projection (the
 * same fold the journal replays), the last durable events of each run
 * numbered as the journal and the store number them, the alerts raised and
 * resolved, the counters and histograms `/metrics` exposes, and the
 * per-stage series `/api/metrics` answers live runs from. Everything is
 * bounded: events per run in a ring, alert history capped, series buckets
 * and runs capped.
 */
import { foldProgress, type StageSums, withEmptySums } from "../events/internal/progress-fold.ts";
import { RunProjection, type RunState } from "../events/projection.ts";
import { durable, type SluiceEvent } from "../events/schema.ts";
import { Histogram } from "../metrics/histogram.ts";
import { LiveSeries, type LiveSeriesOptions } from "./live-series.ts";
import type { AlertItem, EventItem, EventQuery, JsonObject, LiveBus } from "./types.ts";

/** A stage's counters since the server started: the shared progress fold's sums. */
export interface StageCounters extends StageSums {
  readonly pipeline: string;
  readonly stage: string;
  readonly latency: Histogram;
}

interface RunEvents {
  seq: number;
  readonly ring: EventItem[];
  start: number;
}

export interface LiveOptions {
  /** Durable events kept per run for `/api/runs/{id}/events` (default 10 000). */
  readonly maxEvents?: number;
  /** Resolved alerts kept (default 1000). */
  readonly maxAlertHistory?: number;
  /** What the per-stage series keep (see `LiveSeries`). */
  readonly series?: LiveSeriesOptions;
}

/** Text fields of dead letters are cut to this many characters in API output. */
const RAW_CAP = 1024;

export class LiveState {
  readonly projection = new RunProjection();
  readonly stages = new Map<string, StageCounters>();
  readonly eventCounts = new Map<string, number>();
  readonly runsByStatus = new Map<string, number>();
  /** Per-stage series of the runs seen here, for `/api/metrics` without a store query. */
  readonly series: LiveSeries;
  readonly #events = new Map<string, RunEvents>();
  readonly #active = new Map<string, AlertItem>();
  readonly #history: AlertItem[] = [];
  readonly #maxEvents: number;
  readonly #maxHistory: number;
  readonly #sub: { unsubscribe(): void };
  #alertSeq = 0;

  constructor(bus: LiveBus, options: LiveOptions = {}) {
    this.#maxEvents = options.maxEvents ?? 10_000;
    this.#maxHistory = options.maxAlertHistory ?? 1000;
    this.series = new LiveSeries(options.series);
    this.#sub = bus.subscribe((e) => this.apply(e));
  }

  close(): void {
    this.#sub.unsubscribe();
  }

  apply(e: SluiceEvent): void {
    this.projection.apply(e);
    this.series.apply(e);
    const key = `${e.pipeline}\u0000${e.kind}`;
    this.eventCounts.set(key, (this.eventCounts.get(key) ?? 0) + 1);
    if (!durable[e.kind]) return;
    let r = this.#events.get(e.runId);
    if (!r) {
      r = { seq: 0, ring: [], start: 0 };
      this.#events.set(e.runId, r);
    }
    r.seq++;
    const item = toEventItem(e, r.seq);
    if (r.ring.length < this.#maxEvents) r.ring.push(item);
    else {
      r.ring[r.start] = item;
      r.start = (r.start + 1) % this.#maxEvents;
    }
    switch (e.kind) {
      case "stage.progress": {
        const k = `${e.pipeline}\u0000${e.stage}`;
        let s = this.stages.get(k);
        if (!s) {
          s = withEmptySums({ pipeline: e.pipeline, stage: e.stage, latency: new Histogram() });
          this.stages.set(k, s);
        }
        foldProgress(s, e, s.latency);
        break;
      }
      case "run.ended": {
        const k = `${e.pipeline}\u0000${e.status}`;
        this.runsByStatus.set(k, (this.runsByStatus.get(k) ?? 0) + 1);
        break;
      }
      case "alert.raised": {
        this.#active.set(e.alertId, {
          alertId: e.alertId,
          runId: e.runId,
          pipeline: e.pipeline,
          rule: e.rule,
          severity: e.severity,
          stage: e.stage ?? null,
          raisedAt: new Date(e.ts).toISOString(),
          resolvedAt: null,
          value: e.value,
          threshold: e.threshold,
          message: e.message,
          key: `${String(++this.#alertSeq).padStart(12, "0")}`,
        });
        break;
      }
      case "alert.resolved": {
        const a = this.#active.get(e.alertId);
        if (!a) break;
        this.#active.delete(e.alertId);
        this.#history.push({ ...a, resolvedAt: new Date(e.ts).toISOString() });
        if (this.#history.length > this.#maxHistory) this.#history.shift();
        break;
      }
      default:
        break;
    }
  }

  runs(): RunState[] {
    return [...this.projection.runs.values()];
  }

  get(runId: string): RunState | undefined {
    return this.projection.get(runId);
  }

  /** Events of a run after `after`, or undefined when the ring no longer holds that far back. */
  events(runId: string, q: EventQuery): EventItem[] | undefined {
    const r = this.#events.get(runId);
    if (!r) return undefined;
    const n = r.ring.length;
    const oldest = n === 0 ? 1 : r.ring[r.start].seq;
    const after = q.after ?? 0;
    if (after + 1 < oldest) return undefined;
    const kinds = q.kinds ? new Set<string>(q.kinds) : undefined;
    const out: EventItem[] = [];
    for (let i = 0; i < n && out.length < q.limit; i++) {
      const item = r.ring[(r.start + i) % n];
      if (item.seq <= after) continue;
      if (kinds && !kinds.has(item.kind)) continue;
      out.push(item);
    }
    return out;
  }

  /** Alerts: the active ones, or active and resolved (newest first), keyed for paging. */
  alerts(state: "active" | "all"): AlertItem[] {
    const all =
      state === "active" ? [...this.#active.values()] : [...this.#active.values(), ...this.#history];
    return all.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
  }
}

/** An event as the API lists it: sequence, kind, time, stage, and the rest as data. */
export function toEventItem(e: SluiceEvent, seq: number): EventItem {
  const { kind, ts, runId: _r, pipeline: _p, ...rest } = e;
  const data = { ...rest } as Record<string, unknown>;
  if (kind === "dead.letter") {
    // Records may be large and are the user's data: the API shows where and why, and a capped raw line.
    delete data.record;
    if (typeof data.raw === "string" && data.raw.length > RAW_CAP)
      data.raw = `${data.raw.slice(0, RAW_CAP)}…`;
  } else if (kind === "checkpoint") {
    // Operator snapshots and sink tokens are resume state, not something to page through.
    data.operatorState = Object.keys((data.operatorState as object | undefined) ?? {});
    delete data.sinkToken;
  }
  const stage = "stage" in e && typeof e.stage === "string" ? e.stage : null;
  return { seq, kind, ts: new Date(ts).toISOString(), stage, data: data as JsonObject };
}
