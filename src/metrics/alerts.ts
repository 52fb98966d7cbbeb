/**
 * @module Alert rules on live projections. Each rule reads one figure of the
 * live projection (never DuckDB), compares it with a warning and a critical
 * threshold, and raises or resolves `alert.raised` / `alert.resolved` events
 * with hysteresis: a threshold must be crossed on `for` consecutive
 * evaluations to raise (or escalate to critical), and the figure must stay
 * below `warning × (1 − hysteresis)` for `clearFor` evaluations to resolve.
 * Alert ids are stable — `<runId>/<rule>[/<stage>]` — so a raise, its
 * escalation and its resolution share one id, and replays produce the same.
 *
 * Rules are configured per pipeline with `AlertConfigSchema` (zod): every
 * rule has defaults, and a pipeline overrides only what it names.
 */
import type { EventBus, Subscription } from "../events/bus.ts";
import type { EventOf, SluiceEvent } from "../events/schema.ts";
import {
  type AlertConfig,
  type AlertConfigInput,
  type RuleName,
  resolveAlertConfig,
} from "./alert-config.ts";
import { describe } from "./alert-messages.ts";
import { settledGrowthPerMin } from "./memory-growth.ts";
import { NewReasons } from "./new-reasons.ts";
import { type LiveFigures, LiveProjection } from "./projection.ts";

export {
  type AlertConfig,
  type AlertConfigInput,
  AlertConfigSchema,
  type AlertRule,
  DEFAULT_RULES,
  RULES,
  type RuleName,
  resolveAlertConfig,
} from "./alert-config.ts";

export interface RuleState {
  readonly id: string;
  readonly rule: RuleName;
  readonly runId: string;
  readonly pipeline: string;
  readonly stage: string | undefined;
  /** newDeadLetterReason: the normalised reason. */
  readonly detail?: string;
  severity: "none" | "warning" | "critical";
  overWarning: number;
  overCritical: number;
  under: number;
  value: number;
}

/** An open alert. */
export interface ActiveAlert {
  readonly alertId: string;
  readonly runId: string;
  readonly rule: RuleName;
  readonly severity: "warning" | "critical";
  readonly stage: string | null;
  readonly value: number;
}

export interface AlertEngineOptions {
  /**
   * Configuration per pipeline (a function; `undefined` from it means none
   * for that pipeline) or for all (an object). Where none is given, each run
   * is evaluated with its pipeline's own rules (the `alerts` option, carried
   * by its `run.started`), else the defaults.
   */
  readonly config?: AlertConfigInput | ((pipeline: string) => AlertConfigInput | undefined);
  /** Where raised/resolved events go (stamped with the triggering event's ts). */
  readonly emit: (event: EventOf<"alert.raised"> | EventOf<"alert.resolved">) => void;
}

/** Evaluates the rules as events arrive. Feed it with `observe` (or `attachAlerts`). */
export class AlertEngine {
  readonly #projection: LiveProjection;
  readonly #emit: AlertEngineOptions["emit"];
  /** The configuration given for a pipeline, if any (resolved once per pipeline; null: none). */
  readonly #explicit: (pipeline: string) => AlertConfig | null;
  readonly #configs = new Map<string, AlertConfig | null>();
  /** Each live run's own rules (from its `run.started`). */
  readonly #runRules = new Map<string, AlertConfig>();
  /** Each pipeline's own rules, as its latest run carried them (what `rules(pipeline)` shows). */
  readonly #pipelineRules = new Map<string, AlertConfig>();
  readonly #defaults = resolveAlertConfig({});
  readonly #states = new Map<string, RuleState>();
  /** Throughput references per run, from the pipeline's stored baseline. */
  readonly #baselines = new Map<string, number>();
  readonly #newReasons = new NewReasons();
  #override: AlertConfig | undefined;

  constructor(options: AlertEngineOptions) {
    const source = options.config;
    this.#explicit = (pipeline) => {
      let c = this.#configs.get(pipeline);
      if (c === undefined) {
        const input = typeof source === "function" ? source(pipeline) : source;
        c = input === undefined || input === null ? null : resolveAlertConfig(input);
        this.#configs.set(pipeline, c);
      }
      return c;
    };
    this.#emit = options.emit;
    const first = typeof source === "function" ? {} : source;
    this.#projection = new LiveProjection(resolveAlertConfig(first).windows);
  }

  /** The rules a run is evaluated with: replaced ones, else configured, else its own, else the defaults. */
  #configFor(runId: string, pipeline: string): AlertConfig {
    return this.#override ?? this.#explicit(pipeline) ?? this.#runRules.get(runId) ?? this.#defaults;
  }

  /** The live figures the rules read (also what adaptive configuration needs). */
  figures(runId: string): LiveFigures | undefined {
    return this.#projection.figures(runId);
  }

  /** Open alerts, optionally of one run. */
  active(runId?: string): ActiveAlert[] {
    const out: ActiveAlert[] = [];
    for (const s of this.#states.values()) {
      if (s.severity === "none" || (runId !== undefined && s.runId !== runId)) continue;
      out.push({
        alertId: s.id,
        runId: s.runId,
        rule: s.rule,
        severity: s.severity,
        stage: s.stage ?? null,
        value: s.value,
      });
    }
    return out;
  }

  /** The rules in effect for a pipeline (its own as its latest run carried them, unless configured or replaced). */
  rules(pipeline = ""): AlertConfig {
    return this.#override ?? this.#explicit(pipeline) ?? this.#pipelineRules.get(pipeline) ?? this.#defaults;
  }

  /** Replaces the rules for every pipeline (validated; open alerts re-evaluate under the new thresholds). */
  setRules(input: unknown): AlertConfig {
    this.#override = resolveAlertConfig(input);
    return this.#override;
  }

  /**
   * The throughput a run is expected to reach (rows/s, e.g. the median of its
   * pipeline's comparable past runs): the drop rule compares with it instead of
   * the run's own median. A configured `baselineRowsPerS` still wins.
   */
  setBaseline(runId: string, rowsPerS: number | null | undefined): void {
    if (rowsPerS !== null && rowsPerS !== undefined && rowsPerS > 0) this.#baselines.set(runId, rowsPerS);
  }

  /** The dead-letter reasons (`reasonKey`) of the pipeline's earlier runs; undefined: no history. */
  setKnownReasons(runId: string, known: ReadonlySet<string> | undefined): void {
    this.#newReasons.set(runId, known);
  }

  /** Resolves an open alert by hand (`manual: true`); false if it is not open. */
  resolve(alertId: string, ts: number): boolean {
    for (const s of this.#states.values()) {
      if (s.id !== alertId || s.severity === "none") continue;
      this.#resolve(s, ts, true);
      return true;
    }
    return false;
  }

  observe(e: SluiceEvent): void {
    if (e.kind === "alert.raised" || e.kind === "alert.resolved") return;
    if (e.kind === "run.ended") {
      for (const s of this.#states.values())
        if (s.runId === e.runId && s.severity !== "none") this.#resolve(s, e.ts);
      for (const [k, s] of this.#states) if (s.runId === e.runId) this.#states.delete(k);
      this.#projection.forget(e.runId);
      this.#baselines.delete(e.runId);
      this.#runRules.delete(e.runId);
      this.#newReasons.forget(e.runId);
      return;
    }
    if (e.kind === "dead.letter") this.#newReason(e);
    if (e.kind === "run.started") {
      let own: AlertConfig | undefined;
      try {
        if (e.alerts) own = resolveAlertConfig(e.alerts);
      } catch {
        // Rules that no longer validate (a journal from another version): the defaults apply.
      }
      if (own) {
        this.#runRules.set(e.runId, own);
        this.#pipelineRules.set(e.pipeline, own);
      } else {
        this.#runRules.delete(e.runId);
        this.#pipelineRules.delete(e.pipeline);
      }
    }
    const changed = this.#projection.observe(e);
    if (!changed) {
      return;
    }
    const c = this.#configFor(e.runId, e.pipeline);
    if (!c.enabled) return;
    const f = this.#projection.figures(e.runId);
    if (!f) return;
    switch (e.kind) {
      case "stage.progress": {
        const s = f.stages.find((x) => x.stage === e.stage);
        if (!s) return;
        this.#check(c, "p99LatencyMs", e, s.stage, s.p99Ms);
        this.#check(c, "errorRate", e, s.stage, s.errorRate);
        this.#check(c, "deadLetterRate", e, s.stage, s.deadLetterRate);
        if (e.queueDepth !== undefined) this.#check(c, "queueDepth", e, s.stage, s.queueDepth);
        return;
      }
      case "worker.stats":
        this.#check(c, "queueDepth", e, e.stage, e.queueDepth);
        return;
      case "resource.sample":
        this.#check(c, "eventLoopDelayMs", e, undefined, f.eventLoopDelayMs);
        this.#check(c, "memoryGrowthBytesPerMin", e, undefined, this.#memoryGrowth(c, e.runId));
        return;
      case "run.progress": {
        // Evaluated once per second of run time (the projection says when).
        const reference = c.baselineRowsPerS ?? this.#baselines.get(e.runId) ?? f.referenceRowsPerS;
        if (this.#projection.referenceSamples(e.runId) < c.warmupReadings) return;
        if (reference === null || reference <= 0 || f.rowsPerS === null) return;
        this.#check(c, "throughputDrop", e, undefined, Math.max(0, 1 - f.rowsPerS / reference));
        return;
      }
    }
  }

  /** A letter whose reason no earlier run had: raised at `warning` letters, escalated at `critical`. */
  #newReason(e: EventOf<"dead.letter">): void {
    const c = this.#configFor(e.runId, e.pipeline);
    const r = c.rules.newDeadLetterReason;
    if (!c.enabled || !r.enabled || (r.stages && !r.stages.includes(e.stage))) return;
    const n = this.#newReasons.observe(e);
    if (!n) return;
    const id = `${e.runId}/newDeadLetterReason/${e.stage}/${n.reason}`;
    const s = this.#states.get(id) ?? {
      id,
      rule: "newDeadLetterReason" as const,
      runId: e.runId,
      pipeline: e.pipeline,
      stage: e.stage,
      detail: n.reason,
      severity: "none" as const,
      overWarning: 0,
      overCritical: 0,
      under: 0,
      value: 0,
    };
    this.#states.set(id, s);
    s.value = n.count;
    if (s.severity === "none" && n.count >= r.warning) this.#raise(s, "warning", r.warning, e.ts);
    else if (s.severity === "warning" && n.count >= r.critical) this.#raise(s, "critical", r.critical, e.ts);
  }

  /** RSS growth after the run's warm-up, once it spans the minimum window; else null (no evaluation). */
  #memoryGrowth(c: AlertConfig, runId: string): number | null {
    const m = this.#projection.memory(runId);
    if (!m) return null;
    return settledGrowthPerMin(m.samples, m.startedAt, {
      warmupMs: c.memoryWarmupMs,
      minWindowMs: c.memoryWindowMs,
      minSamples: c.minMemorySamples,
    });
  }

  #check(
    c: AlertConfig,
    rule: RuleName,
    e: SluiceEvent,
    stage: string | undefined,
    value: number | null,
  ): void {
    const r = c.rules[rule];
    if (!r.enabled || value === null || !Number.isFinite(value)) return;
    if (stage !== undefined && r.stages && !r.stages.includes(stage)) return;
    const id = stage === undefined ? `${e.runId}/${rule}` : `${e.runId}/${rule}/${stage}`;
    let s = this.#states.get(id);
    if (!s) {
      s = {
        id,
        rule,
        runId: e.runId,
        pipeline: e.pipeline,
        stage,
        severity: "none",
        overWarning: 0,
        overCritical: 0,
        under: 0,
        value,
      };
      this.#states.set(id, s);
    }
    s.value = value;
    s.overWarning = value >= r.warning ? s.overWarning + 1 : 0;
    s.overCritical = value >= r.critical ? s.overCritical + 1 : 0;
    s.under = value < r.warning * (1 - r.hysteresis) ? s.under + 1 : 0;
    if (s.severity !== "critical" && s.overCritical >= r.for) this.#raise(s, "critical", r.critical, e.ts);
    else if (s.severity === "none" && s.overWarning >= r.for) this.#raise(s, "warning", r.warning, e.ts);
    else if (s.severity !== "none" && s.under >= r.clearFor) this.#resolve(s, e.ts);
  }

  #raise(s: RuleState, severity: "warning" | "critical", threshold: number, ts: number): void {
    s.severity = severity;
    s.under = 0;
    this.#emit({
      kind: "alert.raised",
      ts,
      runId: s.runId,
      pipeline: s.pipeline,
      alertId: s.id,
      rule: s.rule,
      severity,
      stage: s.stage,
      value: s.value,
      threshold,
      message: describe(s, severity, threshold),
    });
  }

  #resolve(s: RuleState, ts: number, manual = false): void {
    s.severity = "none";
    s.overWarning = 0;
    s.overCritical = 0;
    s.under = 0;
    this.#emit({
      kind: "alert.resolved",
      ts,
      runId: s.runId,
      pipeline: s.pipeline,
      alertId: s.id,
      rule: s.rule,
      value: s.value,
      manual: manual || undefined,
    });
  }
}

export interface AlertsHandle extends Subscription {
  readonly engine: AlertEngine;
}

/**
 * Evaluates alert rules on a bus and publishes `alert.raised` /
 * `alert.resolved` on it. Alerts are published after the event that caused
 * them has reached every subscriber, so all consumers see the same order.
 * `backlog`: events the bus delivered before this call, observed first.
 *
 * @example
 * ```ts
 * const alerts = attachAlerts(bus, { rules: { p99LatencyMs: { warning: 200, critical: 1000 } } });
 * await runPipeline(p, { bus });
 * alerts.unsubscribe();
 * ```
 */
export function attachAlerts(
  bus: EventBus,
  config?: AlertEngineOptions["config"],
  backlog: readonly SluiceEvent[] = [],
): AlertsHandle {
  const pending: SluiceEvent[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    for (const e of pending.splice(0)) bus.publish(e);
  };
  const engine = new AlertEngine({
    config,
    emit: (e) => {
      pending.push(e);
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    },
  });
  for (const e of backlog) engine.observe(e);
  const sub = bus.subscribe((e) => engine.observe(e));
  return { engine, unsubscribe: () => sub.unsubscribe() };
}
