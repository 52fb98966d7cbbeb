/**
 * @module Baselines and regressions. A baseline is the median of each figure
 * over the last N comparable runs: for a pipeline, completed runs of the same
 * pipeline and definition hash on the same runtime and host; for a benchmark
 * scenario, its recorded results on the same runtime and host. A run (or a
 * new set of scenario results) is a regression when a figure is worse than
 * the baseline beyond a tolerance: relative for throughput, durations,
 * latency and memory; absolute for rates, whose baselines are often zero.
 * Medians keep one noisy run from moving the baseline.
 */
import { MetricsConfigError } from "./errors.ts";
import { type MetricsReader, num, numOrNull } from "./summary.ts";

export type Better = "higher" | "lower";

/** Figures compared for pipeline runs (columns of the `run_stats` view). */
export const RUN_METRICS: Readonly<
  Record<string, { better: Better; tolerance: number; absolute?: boolean }>
> = {
  rows_per_s: { better: "higher", tolerance: 0.1 },
  duration_ms: { better: "lower", tolerance: 0.1 },
  p99_ms: { better: "lower", tolerance: 0.25 },
  peak_rss_bytes: { better: "lower", tolerance: 0.2 },
  cpu_percent: { better: "lower", tolerance: 0.25 },
  error_rate: { better: "lower", tolerance: 0.01, absolute: true },
  dead_letter_rate: { better: "lower", tolerance: 0.01, absolute: true },
};

export interface BaselineQuery {
  /** A pipeline's baseline … */
  readonly pipeline?: string;
  /** … or a benchmark scenario's. */
  readonly scenario?: string;
  /** Runs (or results) the median is taken over (default 10). */
  readonly last?: number;
  /** Comparable means same runtime (default: any) … */
  readonly runtime?: string;
  /** … same host (default: any) … */
  readonly host?: string;
  /** … and same pipeline shape (default: any). */
  readonly definitionHash?: string;
  /** Only runs that started before this ISO time / results recorded before it. */
  readonly before?: string;
  /** Leave this run out. */
  readonly excludeRunId?: string;
}

export interface MetricBaseline {
  readonly median: number | null;
  readonly better: Better;
  readonly samples: number;
}

export interface Baseline {
  readonly pipeline: string | null;
  readonly scenario: string | null;
  readonly runtime: string | null;
  readonly host: string | null;
  readonly definitionHash: string | null;
  /** Run ids the baseline was taken over, newest first. */
  readonly runs: readonly string[];
  readonly metrics: Readonly<Record<string, MetricBaseline>>;
}

export interface RegressionCheck {
  readonly metric: string;
  readonly value: number;
  readonly baseline: number;
  /** (value − baseline) / baseline, or the absolute difference for rates. */
  readonly change: number;
  readonly tolerance: number;
  readonly absolute: boolean;
  readonly better: Better;
  readonly regressed: boolean;
}

export interface RegressionReport {
  readonly target: {
    readonly runId: string | null;
    readonly pipeline: string | null;
    readonly scenario: string | null;
  };
  readonly baseline: Baseline | null;
  readonly checks: readonly RegressionCheck[];
  readonly regressed: boolean;
  /** Why nothing was compared, when nothing was. */
  readonly note: string | null;
}

export interface RegressionOptions {
  /** Tolerance for every figure, or per figure (fractions; absolute for rates). */
  readonly tolerance?: number | Readonly<Record<string, number>>;
  /** Comparable runs the median is taken over (default 10). */
  readonly last?: number;
  /** Fewer comparable runs than this: no verdict (default 3). */
  readonly minRuns?: number;
  /** Require the same runtime / host / definition hash (default true for all three). */
  readonly sameRuntime?: boolean;
  readonly sameHost?: boolean;
  readonly sameDefinition?: boolean;
}

/** One benchmark scenario's results to record. */
export interface BenchResult {
  readonly scenario: string;
  readonly runId?: string;
  /** ms since epoch. */
  readonly ts: number;
  readonly runtime: string;
  readonly host?: string;
  readonly metrics: Readonly<Record<string, { value: number; unit?: string; better: Better }>>;
  readonly tags?: Readonly<Record<string, string | number | boolean>>;
}

function lastN(q: { last?: number }): number {
  const n = q.last ?? 10;
  if (!Number.isInteger(n) || n < 1)
    throw new MetricsConfigError("last", `must be a positive integer, got ${n}`);
  return n;
}

/** Median of each figure over the last N comparable pipeline runs or scenario results. */
export async function computeBaseline(db: MetricsReader, q: BaselineQuery): Promise<Baseline | null> {
  const n = lastN(q);
  if (q.scenario !== undefined) return scenarioBaseline(db, q, n);
  if (q.pipeline === undefined) throw new MetricsConfigError("baseline", "give a pipeline or a scenario");
  const cols = Object.keys(RUN_METRICS);
  const rows = await db.all(
    `WITH c AS (
       SELECT * FROM run_stats
       WHERE pipeline = $pipeline AND status = 'completed'
         AND ($runtime IS NULL OR runtime = $runtime) AND ($host IS NULL OR host = $host)
         AND ($hash IS NULL OR definition_hash = $hash)
         AND ($before IS NULL OR started_at < CAST($before AS TIMESTAMP))
         AND ($exclude IS NULL OR run_id <> $exclude)
       ORDER BY started_at DESC LIMIT $n
     )
     SELECT list(run_id ORDER BY started_at DESC) AS runs,
            ${cols.map((c) => `median(${c}) AS ${c}, count(${c}) AS ${c}__n`).join(", ")}
     FROM c`,
    {
      pipeline: q.pipeline,
      runtime: q.runtime ?? null,
      host: q.host ?? null,
      hash: q.definitionHash ?? null,
      before: q.before ?? null,
      exclude: q.excludeRunId ?? null,
      n,
    },
  );
  const r = rows[0];
  const runs = Array.isArray(r?.runs) ? r.runs.map(String) : [];
  if (!r || runs.length === 0) return null;
  const metrics: Record<string, MetricBaseline> = {};
  for (const c of cols) {
    metrics[c] = { median: numOrNull(r[c]), better: RUN_METRICS[c].better, samples: num(r[`${c}__n`]) };
  }
  return {
    pipeline: q.pipeline,
    scenario: null,
    runtime: q.runtime ?? null,
    host: q.host ?? null,
    definitionHash: q.definitionHash ?? null,
    runs,
    metrics,
  };
}

async function scenarioBaseline(db: MetricsReader, q: BaselineQuery, n: number): Promise<Baseline | null> {
  const rows = await db.all(
    `WITH r AS (
       SELECT *, row_number() OVER (PARTITION BY metric ORDER BY ts DESC) AS k FROM bench_results
       WHERE scenario = $scenario AND ($runtime IS NULL OR runtime = $runtime) AND ($host IS NULL OR host = $host)
         AND ($before IS NULL OR ts < CAST($before AS TIMESTAMP))
         AND ($exclude IS NULL OR run_id IS DISTINCT FROM $exclude)
     )
     SELECT metric, median(value) AS median, count(*) AS samples, arg_max(better, ts) AS better,
            list(DISTINCT run_id) FILTER (WHERE run_id IS NOT NULL) AS runs
     FROM r WHERE k <= $n GROUP BY metric ORDER BY metric`,
    {
      scenario: q.scenario ?? null,
      runtime: q.runtime ?? null,
      host: q.host ?? null,
      before: q.before ?? null,
      exclude: q.excludeRunId ?? null,
      n,
    },
  );
  if (rows.length === 0) return null;
  const metrics: Record<string, MetricBaseline> = {};
  const runs = new Set<string>();
  for (const r of rows) {
    metrics[String(r.metric)] = {
      median: numOrNull(r.median),
      better: r.better === "higher" ? "higher" : "lower",
      samples: num(r.samples),
    };
    if (Array.isArray(r.runs)) for (const id of r.runs) runs.add(String(id));
  }
  return {
    pipeline: null,
    scenario: q.scenario ?? null,
    runtime: q.runtime ?? null,
    host: q.host ?? null,
    definitionHash: null,
    runs: [...runs],
    metrics,
  };
}

/** Compares figures with a baseline. */
export function compare(
  values: Readonly<Record<string, number | null>>,
  baseline: Baseline,
  options: RegressionOptions,
  absoluteMetrics: ReadonlySet<string>,
): RegressionCheck[] {
  const checks: RegressionCheck[] = [];
  for (const [metric, b] of Object.entries(baseline.metrics)) {
    const value = values[metric];
    if (value === null || value === undefined || b.median === null) continue;
    const absolute = absoluteMetrics.has(metric);
    const tolerance = toleranceFor(metric, options);
    const change = absolute
      ? value - b.median
      : b.median === 0
        ? value === 0
          ? 0
          : Infinity
        : (value - b.median) / b.median;
    const worse = b.better === "higher" ? -change : change;
    checks.push({
      metric,
      value,
      baseline: b.median,
      change: Number.isFinite(change) ? change : Number.MAX_VALUE,
      tolerance,
      absolute,
      better: b.better,
      regressed: worse > tolerance,
    });
  }
  return checks;
}

function toleranceFor(metric: string, options: RegressionOptions): number {
  const t = options.tolerance;
  const fallback = RUN_METRICS[metric]?.tolerance ?? 0.1;
  const v = typeof t === "number" ? t : (t?.[metric] ?? fallback);
  if (!(v >= 0)) throw new MetricsConfigError(`tolerance.${metric}`, `must be ≥ 0, got ${v}`);
  return v;
}

const ABSOLUTE = new Set(Object.entries(RUN_METRICS).flatMap(([k, v]) => (v.absolute ? [k] : [])));

/** A run against the median of the comparable runs before it. */
export async function runRegressions(
  db: MetricsReader,
  runId: string,
  options: RegressionOptions = {},
): Promise<RegressionReport> {
  const [run] = await db.all("SELECT * FROM run_stats WHERE run_id = $run", { run: runId });
  const target = { runId, pipeline: run ? String(run.pipeline) : null, scenario: null };
  if (!run)
    return { target, baseline: null, checks: [], regressed: false, note: `no run ${runId} in the store` };
  const baseline = await computeBaseline(db, {
    pipeline: String(run.pipeline),
    runtime: options.sameRuntime === false ? undefined : (run.runtime as string | undefined),
    host: options.sameHost === false ? undefined : ((run.host as string | null) ?? undefined),
    definitionHash:
      options.sameDefinition === false ? undefined : ((run.definition_hash as string | null) ?? undefined),
    before: run.started_at === null ? undefined : String(run.started_at),
    excludeRunId: runId,
    last: options.last,
  });
  const minRuns = options.minRuns ?? 3;
  if (!baseline || baseline.runs.length < minRuns) {
    return {
      target,
      baseline,
      checks: [],
      regressed: false,
      note: `only ${baseline?.runs.length ?? 0} comparable completed runs before this one; ${minRuns} needed for a verdict`,
    };
  }
  const values: Record<string, number | null> = {};
  for (const k of Object.keys(RUN_METRICS)) values[k] = numOrNull(run[k]);
  const checks = compare(values, baseline, options, ABSOLUTE);
  return { target, baseline, checks, regressed: checks.some((c) => c.regressed), note: null };
}

/** Scenario results (given, or the latest recorded) against the scenario's earlier results. */
export async function scenarioRegressions(
  db: MetricsReader,
  scenario: string,
  results: { runtime?: string; host?: string; runId?: string; metrics?: Readonly<Record<string, number>> },
  options: RegressionOptions = {},
): Promise<RegressionReport> {
  let values: Record<string, number | null> = { ...(results.metrics ?? {}) };
  let runId = results.runId ?? null;
  let before: string | undefined;
  if (!results.metrics) {
    const latest = await db.all(
      `WITH last AS (SELECT arg_max(run_id, ts) AS run_id, max(ts) AS ts FROM bench_results WHERE scenario = $s
                     AND ($runtime IS NULL OR runtime = $runtime) AND ($host IS NULL OR host = $host))
       SELECT b.metric, b.value, CAST(last.ts AS VARCHAR) AS ts, last.run_id FROM bench_results b, last
       WHERE b.scenario = $s AND b.ts = last.ts`,
      { s: scenario, runtime: results.runtime ?? null, host: results.host ?? null },
    );
    values = {};
    for (const r of latest) {
      values[String(r.metric)] = numOrNull(r.value);
      runId = (r.run_id as string | null) ?? null;
      before = String(r.ts);
    }
  }
  const target = { runId, pipeline: null, scenario };
  const baseline = await computeBaseline(db, {
    scenario,
    runtime: results.runtime,
    host: results.host,
    before,
    excludeRunId: results.metrics ? (results.runId ?? undefined) : undefined,
    last: options.last,
  });
  const minRuns = options.minRuns ?? 3;
  const samples = baseline ? Math.min(...Object.values(baseline.metrics).map((m) => m.samples)) : 0;
  if (!baseline || samples < minRuns) {
    return {
      target,
      baseline,
      checks: [],
      regressed: false,
      note: `only ${samples} earlier results of ${scenario}; ${minRuns} needed for a verdict`,
    };
  }
  const checks = compare(values, baseline, options, new Set());
  return { target, baseline, checks, regressed: checks.some((c) => c.regressed), note: null };
}
