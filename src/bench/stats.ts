/**
 * @module The runner's statistics, pure functions on plain numbers: the
 * median with min and max of repeated runs, percentiles of latency samples,
 * ratios taken pair by pair (run i of a peer against run i of sluice, so
 * drift on a shared machine hits both sides of each pair alike), and the
 * regression verdict against a stored baseline.
 */

/** Median, min and max of repeated measurements. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/**
 * The median of `xs` (mean of the two middle values for an even count); NaN when empty.
 *
 * @example
 * ```ts
 * median([5, 1, 3]); // 3
 * median([4, 1, 3, 2]); // 2.5
 * ```
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Median, min and max of the finite values of `xs`; undefined when there are none.
 *
 * @example
 * ```ts
 * spread([10, 30, 20]); // { median: 20, min: 10, max: 30, n: 3 }
 * ```
 */
export function spread(xs: readonly number[]): Spread | undefined {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return undefined;
  let min = v[0];
  let max = v[0];
  for (const x of v) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return { median: median(v), min, max, n: v.length };
}

/**
 * The `p`-th percentile (0–100) of `samples` by the nearest-rank method: the
 * smallest value with at least p% of the samples at or below it. NaN when empty.
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 2
 * ```
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const s = [...samples].sort((a, b) => a - b);
  return percentileSorted(s, p);
}

/** {@link percentile} over samples already sorted ascending. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)];
}

/**
 * Ratios of paired measurements: `a[i] / b[i]` for each pair where both are
 * finite and `b[i]` is not 0, summarised as median, min and max.
 * With a = peer rows/s and b = sluice rows/s of the same round, a ratio above
 * 1 means the peer was faster in that round.
 *
 * @example
 * ```ts
 * pairedRatios([50, 40, 60], [100, 100, 100]); // { median: 0.5, min: 0.4, max: 0.6, n: 3 }
 * ```
 */
export function pairedRatios(a: readonly number[], b: readonly number[]): Spread | undefined {
  const r: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i]) && b[i] !== 0) r.push(a[i] / b[i]);
  }
  return spread(r);
}

export type Better = "higher" | "lower";

export interface RegressionVerdict {
  readonly metric: string;
  readonly value: number;
  readonly baseline: number;
  /** Relative change (value − baseline) / baseline; positive means the figure went up. */
  readonly change: number;
  readonly tolerance: number;
  readonly better: Better;
  /** Worse than the baseline by more than the tolerance. */
  readonly regressed: boolean;
}

/**
 * Compares a figure with its baseline (the median of earlier comparable
 * results). It regressed when it moved in the bad direction by more than
 * `tolerance` (a fraction: 0.15 = 15%). A zero baseline compares absolutely.
 *
 * @example
 * ```ts
 * checkRegression("rows_per_s", 80, 100, "higher", 0.15).regressed; // true: 20% slower
 * ```
 */
export function checkRegression(
  metric: string,
  value: number,
  baseline: number,
  better: Better,
  tolerance: number,
): RegressionVerdict {
  if (!(tolerance >= 0)) throw new RangeError(`tolerance for ${metric} must be ≥ 0, got ${tolerance}`);
  const change = baseline === 0 ? value - baseline : (value - baseline) / Math.abs(baseline);
  const worse = better === "higher" ? -change : change;
  return { metric, value, baseline, change, tolerance, better, regressed: worse > tolerance };
}

/** Throughput in records per second. */
export function rate(rows: number, ms: number): number {
  return ms > 0 ? (rows / ms) * 1000 : Number.NaN;
}
