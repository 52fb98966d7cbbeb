/**
 * @module Live figures of running pipelines: a fold over events that keeps a
 * short window per run and stage (the last N `stage.progress` intervals, the
 * last seconds of `run.progress`, the last two minutes of `resource.sample`). The
 * alert rules evaluate on it, and adaptive configuration can read it; neither
 * touches DuckDB on the hot path. Each update is O(window) at worst and the
 * state per run is bounded.
 */
import { emptySums, foldProgress, type StageSums } from "../events/internal/progress-fold.ts";
import type { EventOf, SluiceEvent } from "../events/schema.ts";
import type { ProjectionWindows } from "../pipeline/alert-rules.ts";
import { type Bound, boundBy } from "./bound.ts";
import { Histogram } from "./histogram.ts";

export type { ProjectionWindows };

export const DEFAULT_WINDOWS: ProjectionWindows = {
  intervals: 10,
  throughputMs: 10_000,
  resourceSamples: 120,
  referenceSamples: 300,
};

export interface LiveStage {
  readonly stage: string;
  readonly index: number;
  readonly rowsIn: number;
  /** Chunks timed in the window (the latency percentiles' sample size). */
  readonly chunks: number;
  readonly rowsPerS: number | null;
  readonly errorRate: number | null;
  readonly deadLetterRate: number | null;
  readonly busyShare: number | null;
  /** CPU time over busy time (null where not measured). */
  readonly cpuShare: number | null;
  /** What limits the stage while busy (`bound.ts`). */
  readonly boundBy: Bound | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly queueDepth: number | null;
  readonly workerUtilisation: number | null;
  readonly cacheHitRate: number | null;
}

export interface LiveFigures {
  readonly runId: string;
  readonly pipeline: string;
  /** Source rows per second over the throughput window. */
  readonly rowsPerS: number | null;
  /** The run's own median of per-second throughput so far (the drop rule's reference). */
  readonly referenceRowsPerS: number | null;
  readonly rssBytes: number | null;
  readonly rssSlopeBytesPerMin: number | null;
  readonly cpuPercent: number | null;
  readonly eventLoopDelayMs: number | null;
  readonly stages: readonly LiveStage[];
}

class StageWindow {
  /** The window's events (immutable, kept by reference). */
  readonly intervals: Array<EventOf<"stage.progress">> = [];
  /** Sums over the window: the shared progress fold, added and taken back. */
  readonly sums: StageSums = emptySums();
  readonly hist = new Histogram();
  queueDepth: number | null = null;
  utilisation: number | null = null;
  cacheHitRate: number | null = null;

  constructor(
    readonly stage: string,
    public index: number,
  ) {}

  add(e: EventOf<"stage.progress">, size: number): void {
    this.intervals.push(e);
    foldProgress(this.sums, e, this.hist);
    if (this.intervals.length > size) {
      foldProgress(this.sums, this.intervals.shift() as EventOf<"stage.progress">, this.hist, -1);
      // The max of a sliding window cannot be un-merged; recompute it (≤ N values).
      let max = 0;
      for (const x of this.intervals) if (x.latency.maxMs > max) max = x.latency.maxMs;
      this.hist.maxMs = max;
    }
    if (e.queueDepth != null) this.queueDepth = e.queueDepth;
  }

  figures(): LiveStage {
    const { rowsIn: rows, errors, deadLettered, busyMs, intervalMs, cpuMs } = this.sums;
    return {
      stage: this.stage,
      index: this.index,
      rowsIn: rows,
      chunks: this.hist.count,
      rowsPerS: intervalMs > 0 ? (rows * 1000) / intervalMs : null,
      errorRate: rows > 0 ? errors / rows : null,
      deadLetterRate: rows > 0 ? deadLettered / rows : null,
      busyShare: intervalMs > 0 ? busyMs / intervalMs : null,
      cpuShare: cpuMs != null && busyMs > 0 ? cpuMs / busyMs : null,
      boundBy: boundBy(busyMs, cpuMs),
      p50Ms: this.hist.count > 0 ? this.hist.percentile(50) : null,
      p99Ms: this.hist.count > 0 ? this.hist.percentile(99) : null,
      queueDepth: this.queueDepth,
      workerUtilisation: this.utilisation,
      cacheHitRate: this.cacheHitRate,
    };
  }
}

class RunWindow {
  readonly stages = new Map<string, StageWindow>();
  /** (elapsedMs, rowsIn) of recent `run.progress`. */
  readonly progress: Array<[number, number]> = [];
  readonly perSecond: number[] = [];
  lastSecondAt = Number.NEGATIVE_INFINITY;
  readonly resources: Array<[number, number]> = [];
  /** When the run started (its `run.started`, else the first event seen of it). */
  startedAt: number;
  cpuPercent: number | null = null;
  eventLoopDelayMs: number | null = null;

  constructor(
    readonly runId: string,
    readonly pipeline: string,
    startedAt: number,
  ) {
    this.startedAt = startedAt;
  }

  stage(name: string, index: number): StageWindow {
    let s = this.stages.get(name);
    if (!s) {
      s = new StageWindow(name, index);
      this.stages.set(name, s);
    }
    return s;
  }
}

/** Live per-run figures, folded from events. */
export class LiveProjection {
  readonly #runs = new Map<string, RunWindow>();
  readonly #w: ProjectionWindows;

  constructor(windows: Partial<ProjectionWindows> = {}) {
    this.#w = { ...DEFAULT_WINDOWS, ...windows };
  }

  /** Folds one event in; returns the run's window when the event changed it. */
  observe(e: SluiceEvent): boolean {
    switch (e.kind) {
      case "run.started":
        // A resumed run starts again in a new process: its warm-up starts again too.
        this.#run(e).startedAt = e.ts;
        return true;
      case "stage.progress":
        this.#run(e).stage(e.stage, e.index).add(e, this.#w.intervals);
        return true;
      case "run.progress":
        return this.#progress(this.#run(e), e);
      case "resource.sample": {
        const r = this.#run(e);
        r.resources.push([e.ts, e.rssBytes]);
        if (r.resources.length > this.#w.resourceSamples) r.resources.shift();
        r.cpuPercent = e.cpuPercent;
        r.eventLoopDelayMs = e.eventLoopDelayMs;
        return true;
      }
      case "worker.stats": {
        const s = this.#run(e).stage(e.stage, -1);
        s.queueDepth = e.queueDepth;
        s.utilisation = e.utilisation;
        return true;
      }
      case "cache.stats":
        this.#run(e).stage(e.stage, -1).cacheHitRate = e.hitRate;
        return true;
      default:
        return false;
    }
  }

  /** Drops a finished run's state. */
  forget(runId: string): void {
    this.#runs.delete(runId);
  }

  runs(): string[] {
    return [...this.#runs.keys()];
  }

  figures(runId: string): LiveFigures | undefined {
    const r = this.#runs.get(runId);
    if (!r) return undefined;
    return {
      runId,
      pipeline: r.pipeline,
      rowsPerS: throughput(r.progress),
      referenceRowsPerS: r.perSecond.length > 0 ? median(r.perSecond) : null,
      rssBytes: r.resources.length > 0 ? r.resources[r.resources.length - 1][1] : null,
      rssSlopeBytesPerMin: slopePerMin(r.resources),
      cpuPercent: r.cpuPercent,
      eventLoopDelayMs: r.eventLoopDelayMs,
      stages: [...r.stages.values()].map((s) => s.figures()).sort((a, b) => a.index - b.index),
    };
  }

  /** Number of per-second throughput readings taken for a run (the reference's sample size). */
  referenceSamples(runId: string): number {
    return this.#runs.get(runId)?.perSecond.length ?? 0;
  }

  /** Resource samples kept for a run (the slope's sample size). */
  resourceSamples(runId: string): number {
    return this.#runs.get(runId)?.resources.length ?? 0;
  }

  /** A run's kept `(ts, rss bytes)` samples and when it started (for growth after warm-up). */
  memory(
    runId: string,
  ): { samples: ReadonlyArray<readonly [number, number]>; startedAt: number } | undefined {
    const r = this.#runs.get(runId);
    return r && { samples: r.resources, startedAt: r.startedAt };
  }

  #run(e: SluiceEvent): RunWindow {
    let r = this.#runs.get(e.runId);
    if (!r) {
      r = new RunWindow(e.runId, e.pipeline, e.ts);
      this.#runs.set(e.runId, r);
    }
    return r;
  }

  /** Returns true when a new per-second reading was taken (a throughput evaluation point). */
  #progress(r: RunWindow, e: EventOf<"run.progress">): boolean {
    const p = r.progress;
    p.push([e.elapsedMs, e.rowsIn]);
    while (p.length > 2 && e.elapsedMs - p[1][0] >= this.#w.throughputMs) p.shift();
    if (e.elapsedMs - r.lastSecondAt < 1000) return false;
    r.lastSecondAt = e.elapsedMs;
    const rate = throughput(p);
    if (rate === null) return false;
    r.perSecond.push(rate);
    if (r.perSecond.length > this.#w.referenceSamples) r.perSecond.shift();
    return true;
  }
}

function throughput(p: ReadonlyArray<readonly [number, number]>): number | null {
  if (p.length < 2) return null;
  const [t0, r0] = p[0];
  const [t1, r1] = p[p.length - 1];
  return t1 > t0 ? ((r1 - r0) * 1000) / (t1 - t0) : null;
}

/** Least-squares slope of (ts ms, bytes) in bytes per minute; null below 3 samples. */
export function slopePerMin(samples: ReadonlyArray<readonly [number, number]>): number | null {
  const n = samples.length;
  if (n < 3) return null;
  let mx = 0;
  let my = 0;
  for (const [x, y] of samples) {
    mx += x;
    my += y;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of samples) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  return sxx > 0 ? (sxy / sxx) * 60_000 : null;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
