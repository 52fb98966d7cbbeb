/**
 * @module What limits a stage while it is busy: its own code (CPU) or
 * waiting (I/O, timers, workers), told from its CPU time over its busy time
 * (the meanings are in `pipeline/internal/meter.ts`). The same thresholds
 * are used in SQL (`stage_metrics.bound_by`) and on live figures.
 *
 * Why these thresholds: a stage whose code ran at least half of its busy
 * time gains from more cores (`parallelMap`); one whose code ran under a
 * fifth of it is mostly waiting, and gains from more calls in flight
 * (`mapAsync` concurrency), which cost no cores. Between the two it is
 * `mixed`, and no advice follows from it alone.
 */

/** `cpu`: the stage's code ran ≥ this share of its busy time. */
export const CPU_BOUND_SHARE = 0.5;
/** `io`: the stage's code ran < this share of its busy time. */
export const IO_BOUND_SHARE = 0.2;

export type Bound = "cpu" | "io" | "mixed";

/** The bound of a stage with these sums; null when CPU time is not measured or it was never busy. */
export function boundBy(busyMs: number | null | undefined, cpuMs: number | null | undefined): Bound | null {
  if (cpuMs == null || busyMs == null || !(busyMs > 0)) return null;
  if (cpuMs >= CPU_BOUND_SHARE * busyMs) return "cpu";
  if (cpuMs < IO_BOUND_SHARE * busyMs) return "io";
  return "mixed";
}
