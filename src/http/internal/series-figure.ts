/**
 * @module One series figure from a time bucket's sums: the formulas of the
 * store's `stage_metrics` views, shared by the answers read from DuckDB
 * (`store-queries.ts`) and those kept live in the server thread
 * (`live-series.ts`), so both give the same figure for the same sums.
 */
import type { SeriesMetric } from "../types.ts";

/** A bucket's sums; null where the bucket has no value. */
export interface BucketSums {
  readonly rowsIn: number | null;
  readonly rowsOut: number | null;
  readonly errors: number | null;
  readonly deadLettered: number | null;
  readonly bytes: number | null;
  readonly busyMs: number | null;
  readonly intervalMs: number | null;
  readonly queueDepth: number | null;
  readonly latCount: number | null;
  readonly latSumMs: number | null;
  readonly latMaxMs: number | null;
}

const PERCENTILE: Partial<Record<SeriesMetric, number>> = { p50_ms: 50, p95_ms: 95, p99_ms: 99 };

/** Whether the figure is a latency percentile (read from the bucket's histograms). */
export const isPercentile = (metric: SeriesMetric): boolean => PERCENTILE[metric] !== undefined;

const ratio = (x: number | null, y: number | null, scale = 1): number | null =>
  x === null || y === null || y === 0 ? null : (x * scale) / y;

/** `percentile(p)`: the bucket's merged latency histogram at p (null when it has none). */
export function seriesFigure(
  metric: SeriesMetric,
  s: BucketSums,
  percentile: (p: number) => number | null,
): number | null {
  switch (metric) {
    case "rows_per_s":
      return ratio(s.rowsIn, s.intervalMs, 1000);
    case "bytes_per_s":
      return ratio(s.bytes, s.intervalMs, 1000);
    case "error_rate":
      return ratio(s.errors, s.rowsIn);
    case "dead_letter_rate":
      return ratio(s.deadLettered, s.rowsIn);
    case "busy_share":
      return ratio(s.busyMs, s.intervalMs);
    case "mean_ms":
      return ratio(s.latSumMs, s.latCount);
    case "max_ms":
      return s.latMaxMs;
    case "rows_in":
      return s.rowsIn;
    case "rows_out":
      return s.rowsOut;
    case "errors":
      return s.errors;
    case "dead_lettered":
      return s.deadLettered;
    case "queue_depth":
      return s.queueDepth;
    default:
      return percentile(PERCENTILE[metric] ?? 99);
  }
}
