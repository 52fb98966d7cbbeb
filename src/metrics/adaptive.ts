/**
 * @module Adaptive configuration (opt-in: `runPipeline(p, { plugins: [adaptive()] })`,
 * `sluice run FILE --adaptive`). A controller folds the run's events into
 * live figures (`LiveProjection`, the same fold the alert rules use) and,
 * every interval of the injected clock, asks the recommendation rules
 * (`recommend`, with a per-chunk latency target) what to change. It acts on
 * the settings stages offered through `StageContext.offerKnob` — the source
 * chunk size (`chunk.rows`) and each parallelMap's worker count (`workers`) —
 * one change at a time, within bounds, and publishes each as a
 * `config.changed` event quoting the rule's figures.
 *
 * It does not oscillate: nothing changes during the warm-up; after a change
 * nothing changes for a cool-down (the figures window is as long, so the next
 * decision sees only the new setting); a setting is not moved back the other
 * way within three cool-downs of its last move; and the rules leave a dead
 * band (chunks shrink over the target and grow under a quarter of it; workers
 * are added for a busy pool while cores idle and removed under 30% use).
 */
import type { EventInput, SluiceEvent } from "../events/schema.ts";
import type { AdaptiveOptions } from "../pipeline/adaptive-options.ts";
import { ConfigError } from "../pipeline/errors.ts";
import type { Knob } from "../pipeline/types.ts";
import { type Duration, toMillis } from "../pipeline/units.ts";
import type { Clock } from "../runtime/clock.ts";
import { findBottlenecks } from "./bottlenecks.ts";
import { type LiveFigures, LiveProjection } from "./projection.ts";
import { type Recommendation, recommend } from "./recommendations.ts";
import type { RunReport } from "./summary.ts";

export type { AdaptiveOptions };

export interface AdaptiveSettings {
  readonly intervalMs: number;
  readonly warmupMs: number;
  readonly cooldownMs: number;
  readonly targetLatencyMs: number;
  readonly chunkRows: { readonly min: number; readonly max: number } | null;
  readonly workers: { readonly min: number; readonly max: number } | null;
  readonly cores: number;
}

/** Fills the defaults and checks the bounds; `cores` comes from the runtime. */
export function resolveAdaptive(options: true | AdaptiveOptions, cores: number): AdaptiveSettings {
  const o: AdaptiveOptions = options === true ? {} : options;
  const ms = (v: Duration | undefined, fallback: number, what: string) => {
    const x = v === undefined ? fallback : toMillis(v, `adaptive.${what}`);
    if (!(x > 0)) throw new ConfigError(`adaptive.${what} must be more than 0, got ${String(v)}`);
    return x;
  };
  const bounds = (
    b: { min?: number; max?: number } | false | undefined,
    min: number,
    max: number,
    what: string,
  ) => {
    if (b === false) return null;
    const r = { min: b?.min ?? min, max: b?.max ?? max };
    if (!Number.isInteger(r.min) || !Number.isInteger(r.max) || r.min < 1 || r.min > r.max) {
      throw new ConfigError(
        `adaptive.${what}: need whole numbers with 1 <= min <= max, got ${JSON.stringify(b)}`,
      );
    }
    return r;
  };
  return {
    intervalMs: ms(o.interval, 1000, "interval"),
    warmupMs: ms(o.warmup, 3000, "warmup"),
    cooldownMs: ms(o.cooldown, 3000, "cooldown"),
    targetLatencyMs: ms(o.targetLatency, 100, "targetLatency"),
    chunkRows: bounds(o.chunkRows, 100, 10_000, "chunkRows"),
    workers: bounds(o.workers, 1, Math.max(1, cores), "workers"),
    cores: Math.max(1, cores),
  };
}

/** One change the controller made (the body of its `config.changed` event). */
export interface ConfigChange {
  readonly stage: string;
  readonly setting: Knob["setting"];
  readonly from: number;
  readonly to: number;
  readonly reason: string;
}

interface Tuned {
  readonly stage: string;
  readonly knob: Knob;
  readonly min: number;
  readonly max: number;
  changedAt: number;
  direction: -1 | 0 | 1;
}

export interface AdaptiveDeps {
  readonly runId: string;
  readonly clock: Clock;
  /** Publishes the `config.changed` events. */
  emit(event: EventInput): void;
  /** When the run began, on `clock.monotonic()` (default: now); the warm-up counts from it. */
  readonly startedAt?: number;
}

export class AdaptiveController {
  readonly #projection: LiveProjection;
  readonly #knobs: Tuned[] = [];
  readonly #startedAt: number;
  #lastChangeAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly settings: AdaptiveSettings,
    readonly deps: AdaptiveDeps,
  ) {
    // A window as long as the cool-down: a decision after it sees only the current settings.
    this.#projection = new LiveProjection({
      intervals: Math.max(2, Math.round(settings.cooldownMs / 1000)),
      throughputMs: settings.cooldownMs,
    });
    this.#startedAt = deps.startedAt ?? deps.clock.monotonic();
  }

  /** Takes a setting a stage offers, narrowed to the configured bounds (ignored when that setting is off). */
  offer(stage: string, knob: Knob): void {
    const b = knob.setting === "workers" ? this.settings.workers : this.settings.chunkRows;
    if (!b) return;
    const min = Math.max(knob.min, b.min);
    const max = Math.min(knob.max, b.max);
    if (min > max) return;
    this.#knobs.push({ stage, knob, min, max, changedAt: Number.NEGATIVE_INFINITY, direction: 0 });
  }

  /** The settings it may change: stage, setting, bounds and current value. */
  knobs(): Array<{ stage: string; setting: Knob["setting"]; min: number; max: number; value: number }> {
    return this.#knobs.map((t) => ({
      stage: t.stage,
      setting: t.knob.setting,
      min: t.min,
      max: t.max,
      value: t.knob.get(),
    }));
  }

  /** Folds one of the run's events into the figures. */
  observe(event: SluiceEvent): void {
    this.#projection.observe(event);
  }

  /** Decides every `interval` of the clock; returns the stop function. */
  start(): () => void {
    return this.deps.clock.every(this.settings.intervalMs, () => {
      this.tick();
    });
  }

  /** One decision on the current figures: applies and publishes at most one change. */
  tick(): ConfigChange | undefined {
    const figures = this.#projection.figures(this.deps.runId);
    return figures ? this.decide(figures) : undefined;
  }

  /** The decision on given figures (tests pass synthetic ones). */
  decide(figures: LiveFigures): ConfigChange | undefined {
    const now = this.deps.clock.monotonic();
    const { warmupMs, cooldownMs } = this.settings;
    if (this.#knobs.length === 0 || now - this.#startedAt < warmupMs || now - this.#lastChangeAt < cooldownMs)
      return undefined;
    const report = liveReport(
      figures,
      this.#knobs
        .filter((t) => t.knob.setting === "workers")
        .map((t) => ({ stage: t.stage, workers: t.knob.get() })),
    );
    const recs = recommend(report, findBottlenecks(report), {
      cores: this.settings.cores,
      targetChunkMs: this.settings.targetLatencyMs,
    });
    for (const rec of recs) {
      const change = this.#proposal(rec, now);
      if (!change) continue;
      const tuned = change.tuned;
      tuned.knob.set(change.to);
      tuned.direction = change.to > change.from ? 1 : -1;
      tuned.changedAt = now;
      this.#lastChangeAt = now;
      const event: ConfigChange = {
        stage: tuned.stage,
        setting: tuned.knob.setting,
        from: change.from,
        to: change.to,
        reason: change.reason,
      };
      this.deps.emit({ kind: "config.changed", ...event });
      return event;
    }
    return undefined;
  }

  #proposal(
    rec: Recommendation,
    now: number,
  ): { tuned: Tuned; from: number; to: number; reason: string } | undefined {
    let tuned: Tuned | undefined;
    let wanted: number;
    if (rec.setting === "workers" && rec.suggested !== null) {
      tuned = this.#knobs.find((t) => t.knob.setting === "workers" && t.stage === rec.stage);
      wanted = rec.suggested;
    } else if (rec.id === "lower-chunk-size" || rec.id === "raise-chunk-size") {
      // The stage's rows per chunk may differ from the source's (filters, flatMap): scale by the ratio.
      tuned = this.#knobs.find((t) => t.knob.setting === "chunk.rows");
      const ratio =
        rec.current && rec.suggested ? rec.suggested / rec.current : rec.direction === "lower" ? 0.5 : 2;
      wanted = (tuned?.knob.get() ?? 0) * ratio;
    } else return undefined;
    if (!tuned) return undefined;
    const from = tuned.knob.get();
    const to = Math.max(tuned.min, Math.min(tuned.max, Math.round(wanted)));
    if (to === from) return undefined; // already at the bound
    const direction = to > from ? 1 : -1;
    if (
      tuned.direction !== 0 &&
      direction !== tuned.direction &&
      now - tuned.changedAt < 3 * this.settings.cooldownMs
    )
      return undefined; // no flip-flopping
    const verb = direction > 0 ? "raised" : "lowered";
    return {
      tuned,
      from,
      to,
      reason: `${rec.id}: ${rec.reason} Adaptive configuration ${verb} ${tuned.knob.setting} of ${tuned.stage} from ${from} to ${to} (bounds ${tuned.min}..${tuned.max}).`,
    };
  }
}

/** Live figures as the run report the bottleneck and recommendation rules read (a 1-second wall). */
export function liveReport(
  figures: LiveFigures,
  pools: ReadonlyArray<{ readonly stage: string; readonly workers: number }>,
): RunReport {
  const wall = 1000;
  const byStage = new Map(figures.stages.map((s) => [s.stage, s]));
  return {
    run: {
      runId: figures.runId,
      pipeline: figures.pipeline,
      status: "running",
      startedAt: null,
      endedAt: null,
      durationMs: wall,
      rowsIn: null,
      rowsOut: null,
      filtered: null,
      deadLettered: null,
      error: null,
      attempts: null,
      runtime: null,
      runtimeVersion: null,
      host: null,
      definitionHash: null,
      source: null,
      sink: null,
      stages: null,
      sourceBytes: null,
      events: 0,
      lastEventAt: null,
    },
    stages: figures.stages
      .filter((s) => s.busyShare !== null)
      .map((s) => ({
        stage: s.stage,
        index: s.index,
        events: 0,
        chunks: s.chunks,
        rowsIn: s.rowsIn,
        rowsOut: 0,
        filtered: 0,
        deadLettered: 0,
        errors: 0,
        bytes: 0,
        busyMs: (s.busyShare ?? 0) * wall,
        intervalMs: wall,
        busyShare: s.busyShare,
        cpuMs: s.cpuShare === null ? null : s.cpuShare * (s.busyShare ?? 0) * wall,
        waitMs: s.cpuShare === null ? null : (1 - s.cpuShare) * (s.busyShare ?? 0) * wall,
        boundBy: s.boundBy,
        rowsPerS: s.rowsPerS,
        errorRate: s.errorRate,
        queueDepth: s.queueDepth,
        meanMs: null,
        maxMs: null,
        p50Ms: s.p50Ms,
        p95Ms: null,
        p99Ms: s.p99Ms,
      })),
    resources: {
      samples: 1,
      cpuPercent: figures.cpuPercent,
      cpuPercentMax: figures.cpuPercent,
      peakRssBytes: figures.rssBytes,
      firstRssBytes: null,
      lastRssBytes: figures.rssBytes,
      peakHeapUsedBytes: null,
      rssSlopeBytesPerMin: figures.rssSlopeBytesPerMin,
      eventLoopDelayMsMax: figures.eventLoopDelayMs,
    },
    alerts: [],
    configChanges: [],
    deadLetters: { total: 0, byReason: [] },
    retries: [],
    caches: [],
    workers: pools.map((p) => ({
      stage: p.stage,
      workersMax: p.workers,
      utilisation: byStage.get(p.stage)?.workerUtilisation ?? null,
      queueDepthMax: byStage.get(p.stage)?.queueDepth ?? null,
      completed: 0,
      failed: 0,
      avgTaskMs: null,
    })),
  };
}
