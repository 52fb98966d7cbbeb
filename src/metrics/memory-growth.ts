/**
 * @module Memory growth measured on the settled part of a run. RSS climbs
 * steeply while a run warms up (the heap, compiled code, buffers and caches
 * filling) and then levels off; a least-squares slope over the first seconds
 * extrapolates that climb to "MiB per minute" — a 7-second run was told "RSS
 * grows 1739.9 MiB/min" and a 21-second run raised a critical leak alert.
 * So growth is measured only on samples taken after a warm-up, and only once
 * those span a minimum window; before that there is no figure (null), not a
 * guess. The memory alert rule and the run report (recommendations) both use
 * this, with the same defaults.
 */
import { slopePerMin } from "./projection.ts";

export { MEMORY_MIN_WINDOW_MS, MEMORY_WARMUP_MS } from "../pipeline/alert-rules.ts";

export interface GrowthWindow {
  /** Samples before `startedAt + warmupMs` are ignored. */
  readonly warmupMs: number;
  /** Least time between the first and the last settled sample. */
  readonly minWindowMs: number;
  /** Least number of settled samples (at least 3). */
  readonly minSamples?: number;
}

/**
 * RSS growth in bytes per minute over `(ts ms, rss bytes)` samples after the
 * warm-up, or null while they are too few or span less than the window.
 *
 * @example
 * ```ts
 * settledGrowthPerMin(samples, runStartedAt, { warmupMs: MEMORY_WARMUP_MS, minWindowMs: MEMORY_MIN_WINDOW_MS });
 * ```
 */
export function settledGrowthPerMin(
  samples: ReadonlyArray<readonly [number, number]>,
  startedAt: number,
  window: GrowthWindow,
): number | null {
  const from = startedAt + window.warmupMs;
  const settled = samples.filter(([ts]) => ts >= from);
  if (settled.length < Math.max(3, window.minSamples ?? 3)) return null;
  if (settled[settled.length - 1][0] - settled[0][0] < window.minWindowMs) return null;
  return slopePerMin(settled);
}
