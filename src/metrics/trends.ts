/**
 * @module Trend analysis: where a pipeline's throughput, p99 latency and peak
 * RSS are heading over its last N completed runs, per stage and for the run
 * as a whole (the `trends` view; `internal/trends-sql.ts` has the method and
 * thresholds). `sluice metrics PIPELINE`, `GET /api/trends` and the
 * dashboard's trend chart read it.
 */
import type { SqlRow } from "../duckdb/client.ts";
import { TREND_RUNS } from "./internal/trends-sql.ts";
import { type MetricsReader, num, numOrNull, strOrNull } from "./summary.ts";

export { TREND_FLAT, TREND_MIN_RUNS, TREND_RUNS } from "./internal/trends-sql.ts";

export type TrendMetric = "rows_per_s" | "p99_ms" | "peak_rss_bytes";
export type TrendDirection = "improving" | "worsening" | "flat";

export interface Trend {
  readonly pipeline: string;
  /** A stage name, or `*` for the run as a whole. */
  readonly stage: string;
  readonly metric: TrendMetric;
  /** Runs in the window that have the figure. */
  readonly runs: number;
  readonly firstValue: number | null;
  readonly lastValue: number | null;
  readonly mean: number | null;
  /** Fitted change per run (the figure's unit per run). */
  readonly slope: number | null;
  /** Fitted change across the window over the window's mean (0.1 = +10%). */
  readonly change: number | null;
  /** null with fewer than `TREND_MIN_RUNS` runs. */
  readonly direction: TrendDirection | null;
  /** Which way is better for the figure. */
  readonly better: "higher" | "lower";
  readonly lastRunId: string | null;
}

export interface TrendQuery {
  readonly pipeline?: string;
  readonly stage?: string;
  /** Completed runs to look back over (default `TREND_RUNS`, 10). */
  readonly runs?: number;
}

function toTrend(r: SqlRow): Trend {
  const d = r.direction;
  return {
    pipeline: String(r.pipeline),
    stage: String(r.stage),
    metric: String(r.metric) as TrendMetric,
    runs: num(r.runs),
    firstValue: numOrNull(r.first_value),
    lastValue: numOrNull(r.last_value),
    mean: numOrNull(r.mean),
    slope: numOrNull(r.slope),
    change: numOrNull(r.change),
    direction: d === "improving" || d === "worsening" || d === "flat" ? d : null,
    better: r.better === "higher" ? "higher" : "lower",
    lastRunId: strOrNull(r.last_run_id),
  };
}

/** Trends of one pipeline (or all), run-level rows first, then stages in order. */
export async function computeTrends(db: MetricsReader, q: TrendQuery = {}): Promise<Trend[]> {
  const runs = q.runs ?? TREND_RUNS;
  if (!Number.isInteger(runs) || runs < 2)
    throw new RangeError(`trends: runs must be an integer ≥ 2, got ${runs}`);
  const where: string[] = [];
  const params: Record<string, string> = {};
  if (q.pipeline !== undefined) {
    where.push("t.pipeline = $pipeline");
    params.pipeline = q.pipeline;
  }
  if (q.stage !== undefined) {
    where.push("t.stage = $stage");
    params.stage = q.stage;
  }
  // `runs` is a checked integer: inlined, as a table macro's argument.
  const rows = await db.all(
    `SELECT t.* FROM trends_over(${runs}) t
     LEFT JOIN (SELECT run_id, stage, any_value(stage_index) AS idx FROM stage_totals GROUP BY ALL) s
       ON s.run_id = t.last_run_id AND s.stage = t.stage
     ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY t.pipeline, t.stage <> '*', s.idx NULLS FIRST, t.stage, t.metric`,
    params,
  );
  return rows.map(toTrend);
}
