/**
 * @module From measurements to results: the figures of a result (what is
 * recorded and compared), the comparison of each result with its stored
 * baseline (regressions are flagged for sluice only: a peer that got slower
 * says something about the machine or the library, not about sluice), and
 * the JSON shape `sluice bench --json` prints.
 */
import { describeError } from "../pipeline/errors.ts";
import type { MachineInfo } from "./internal/host.ts";
import type { BenchRun, ResultSummary } from "./runner.ts";
import { type Better, checkRegression, type RegressionVerdict, type Spread } from "./stats.ts";
import { type BenchStore, machineTags, type ResultKey, type StoredBaseline } from "./store.ts";

/** Relative tolerance per compared figure (0.15 = 15% worse than the baseline is a regression). */
export type Tolerances = Readonly<Record<"rows_per_s" | "p99_ms" | "peak_rss_mb", number>>;

/** Generous on latency (its tail moves most on a shared machine), tighter on throughput and memory. */
export const DEFAULT_TOLERANCES: Tolerances = { rows_per_s: 0.15, p99_ms: 0.5, peak_rss_mb: 0.2 };

export interface BaselineComparison {
  /** Earlier comparable results the baseline medians are taken over. */
  readonly samples: number;
  readonly metrics: Readonly<Record<string, number>>;
  readonly checks: readonly RegressionVerdict[];
  readonly regressed: boolean;
  readonly note?: string;
}

export interface CompareOptions {
  /** Results the baseline median is taken over (default 10). */
  readonly last?: number;
  /** Fewer earlier results than this: no verdict (default 3). */
  readonly minRuns?: number;
  readonly tolerances?: Tolerances;
  /** Record the new results after comparing (default true). */
  readonly record?: boolean;
}

type Figure = { value: number; unit?: string; better: Better };

/** The figures of a result that are recorded (medians of its runs). */
export function figuresOf(r: ResultSummary): Record<string, Figure> {
  const out: Record<string, Figure> = {};
  const put = (name: string, s: Spread | undefined, unit: string, better: Better) => {
    if (s && Number.isFinite(s.median)) out[name] = { value: s.median, unit, better };
  };
  put("rows_per_s", r.rowsPerS, "rows/s", "higher");
  put("wall_ms", r.wallMs, "ms", "lower");
  put("cpu_ms", r.cpuMs, "ms", "lower");
  put("p50_ms", r.p50Ms, "ms", "lower");
  put("p99_ms", r.p99Ms, "ms", "lower");
  put("peak_rss_mb", r.peakRssMb, "MiB", "lower");
  for (const [k, s] of Object.entries(r.metrics)) put(k, s, "", "higher");
  return out;
}

export function keyOf(r: ResultSummary, machine: MachineInfo): ResultKey {
  return {
    scenario: r.scenario,
    implementation: r.implementation,
    rows: r.rows,
    runtime: r.runtime,
    runtimeVersion: r.runtimeVersion,
    host: machine.host,
  };
}

/**
 * Compares a result's figures with a baseline (medians of earlier results):
 * throughput, p99 latency and peak RSS, each against its tolerance. Figures
 * with fewer than `minRuns` (default 3) earlier results are not compared.
 *
 * @example
 * ```ts
 * const c = compareWithBaseline(result, { samples: 5, metrics: { rows_per_s: 1_000_000 } });
 * if (c?.regressed) console.log(c.checks.filter((x) => x.regressed));
 * ```
 */
export function compareWithBaseline(
  r: ResultSummary,
  baseline: StoredBaseline | undefined,
  options: { minRuns?: number; tolerances?: Tolerances } = {},
): BaselineComparison | undefined {
  if (r.status !== "ok") return undefined;
  const minRuns = options.minRuns ?? 3;
  const tol = options.tolerances ?? DEFAULT_TOLERANCES;
  const figures = figuresOf(r);
  const checks: RegressionVerdict[] = [];
  let compared = 0;
  for (const metric of Object.keys(tol) as Array<keyof Tolerances>) {
    const f = figures[metric];
    const b = baseline?.metrics[metric];
    const n = baseline?.counts?.[metric] ?? baseline?.samples ?? 0;
    if (!f || b === undefined || n < minRuns) continue;
    compared = Math.max(compared, n);
    checks.push(checkRegression(metric, f.value, b, f.better, tol[metric]));
  }
  if (checks.length === 0) {
    const n = baseline?.samples ?? 0;
    return {
      samples: n,
      metrics: baseline?.metrics ?? {},
      checks: [],
      regressed: false,
      note: `${n} earlier comparable result${n === 1 ? "" : "s"}; ${minRuns} needed for a verdict`,
    };
  }
  const regressed = r.implementation === "sluice" && checks.some((c) => c.regressed);
  return { samples: compared, metrics: baseline?.metrics ?? {}, checks, regressed };
}

/**
 * Compares every successful result with its stored baseline, then (unless
 * told not to) records it. Returns the comparisons by result.
 */
export async function compareAndRecord(
  run: BenchRun,
  machine: MachineInfo,
  git: { commit: string; dirty: boolean } | undefined,
  store: BenchStore,
  options: CompareOptions = {},
): Promise<Map<ResultSummary, BaselineComparison>> {
  const out = new Map<ResultSummary, BaselineComparison>();
  for (const r of run.results) {
    if (r.status !== "ok") continue;
    const key = keyOf(r, machine);
    let c: BaselineComparison | undefined;
    try {
      c = compareWithBaseline(r, await store.baseline(key, options.last ?? 10), options);
    } catch (e) {
      c = { samples: 0, metrics: {}, checks: [], regressed: false, note: `no baseline: ${describeError(e)}` };
    }
    if (c) out.set(r, c);
    if (options.record === false) continue;
    await store.record({
      key,
      runId: run.id,
      ts: run.finishedAt,
      metrics: figuresOf(r),
      tags: {
        scenario: r.scenario,
        implementation: r.implementation,
        rows: r.rows,
        runs: r.runs,
        scale: String(run.scale),
        runtime_version: r.runtimeVersion,
        rows_per_s_min: r.rowsPerS?.min ?? -1,
        rows_per_s_max: r.rowsPerS?.max ?? -1,
        ...machineTags(machine, git),
      },
    });
  }
  return out;
}

/** One element of `sluice bench --json`. */
export interface BenchResultJson {
  readonly scenario: string;
  readonly implementation: string;
  readonly runtime: string;
  readonly runtime_version: string;
  readonly status: "ok" | "failed" | "skipped";
  readonly note: string | null;
  readonly rows: number;
  readonly runs: number;
  readonly rows_per_s: number | null;
  readonly rows_per_s_min: number | null;
  readonly rows_per_s_max: number | null;
  readonly wall_ms: number | null;
  readonly cpu_ms: number | null;
  readonly cpu_percent: number | null;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly peak_rss_mb: number | null;
  readonly peak_rss_mb_min: number | null;
  readonly peak_rss_mb_max: number | null;
  /** The scenario's memory cap: the V8 heap limit given to Node and Deno (--max-old-space-size). */
  readonly memory_cap_mb: number | null;
  /**
   * Node, Deno: the work completed under the heap limit (a process that exceeds it dies).
   * Bun (no heap limit): its highest peak RSS was at or under the cap.
   */
  readonly within_cap: boolean | null;
  /** Pairwise against sluice on the same runtime (this ÷ sluice), median with min and max. */
  readonly vs_sluice: {
    readonly rows_per_s: Spread | null;
    readonly peak_rss_mb: Spread | null;
  } | null;
  readonly baseline: BaselineComparison | null;
  readonly regressed: boolean;
  readonly metrics: Readonly<Record<string, number>>;
  readonly bench_run: string;
  readonly machine: MachineInfo;
  readonly git: { readonly commit: string; readonly dirty: boolean } | null;
}

const round = (x: number | undefined, digits = 3): number | null => {
  if (x === undefined || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

function withinCap(r: ResultSummary): boolean | null {
  if (r.memoryCapMb === undefined || r.runs === 0) return null;
  if (r.runtime !== "bun") return r.status === "ok";
  return r.peakRssMb !== undefined && r.peakRssMb.max <= r.memoryCapMb;
}

export function toJson(
  run: BenchRun,
  comparisons: ReadonlyMap<ResultSummary, BaselineComparison>,
  machine: MachineInfo,
  git: { commit: string; dirty: boolean } | undefined,
): BenchResultJson[] {
  return run.results.map((r) => {
    const cmp = comparisons.get(r);
    return {
      scenario: r.scenario,
      implementation: r.implementation,
      runtime: r.runtime,
      runtime_version: r.runtimeVersion,
      status: r.status,
      note: r.note ?? null,
      rows: r.rows,
      runs: r.runs,
      rows_per_s: round(r.rowsPerS?.median, 1),
      rows_per_s_min: round(r.rowsPerS?.min, 1),
      rows_per_s_max: round(r.rowsPerS?.max, 1),
      wall_ms: round(r.wallMs?.median, 1),
      cpu_ms: round(r.cpuMs?.median, 1),
      cpu_percent:
        r.cpuMs && r.wallMs && r.wallMs.median > 0
          ? round((r.cpuMs.median / r.wallMs.median) * 100, 1)
          : null,
      p50_ms: round(r.p50Ms?.median),
      p99_ms: round(r.p99Ms?.median),
      peak_rss_mb: round(r.peakRssMb?.median, 1),
      peak_rss_mb_min: round(r.peakRssMb?.min, 1),
      peak_rss_mb_max: round(r.peakRssMb?.max, 1),
      memory_cap_mb: r.memoryCapMb ?? null,
      within_cap: withinCap(r),
      vs_sluice: r.vsSluice
        ? { rows_per_s: r.vsSluice.rowsPerS ?? null, peak_rss_mb: r.vsSluice.peakRssMb ?? null }
        : null,
      baseline: cmp ?? null,
      regressed: cmp?.regressed ?? false,
      metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, s]) => [k, s.median])),
      bench_run: run.id,
      machine,
      git: git ?? null,
    };
  });
}
