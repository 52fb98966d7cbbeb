/**
 * @module `sluice metrics PIPELINE`: where a pipeline's throughput, p99 and
 * peak RSS are heading over its last completed runs (the `trends` view), per
 * stage and for the run as a whole. `--json` prints the trend rows.
 */
import type { MetricsStore } from "../../metrics/store.ts";
import { TREND_FLAT, TREND_MIN_RUNS, TREND_RUNS, type Trend } from "../../metrics/trends.ts";
import { safeJson } from "../../pipeline/internal/dead-letter.ts";
import { stdout } from "../../runtime/process.ts";
import { UsageError } from "../errors.ts";
import { bytes, compact } from "../format.ts";
import { table } from "./metrics.ts";

/** Whether `name` names a pipeline in the store and no run has that id. */
export async function isPipelineNotRun(store: MetricsStore, name: string): Promise<boolean> {
  const r = await store.query(
    "SELECT (SELECT count(*) FROM runs WHERE run_id = $n) AS runs, (SELECT count(*) FROM runs WHERE pipeline = $n) AS pipelines",
    { n: name },
  );
  const row = r.rows[0] ?? {};
  return Number(row.runs) === 0 && Number(row.pipelines) > 0;
}

const FIGURE: Record<Trend["metric"], string> = {
  rows_per_s: "rows/s",
  p99_ms: "p99 ms",
  peak_rss_bytes: "peak RSS",
};

function value(t: Trend, v: number | null, signed = false): string {
  if (v === null) return "-";
  const sign = signed && v > 0 ? "+" : signed && v < 0 ? "-" : "";
  const x = Math.abs(v);
  const s =
    t.metric === "peak_rss_bytes" ? bytes(x) : t.metric === "p99_ms" && x < 10 ? x.toFixed(2) : compact(x);
  return `${sign}${s}`;
}

export async function printTrends(store: MetricsStore, pipeline: string, json: boolean): Promise<number> {
  const trends = await store.trends({ pipeline });
  if (json) {
    stdout.write(`${safeJson(trends)}\n`);
    return 0;
  }
  if (trends.length === 0)
    throw new UsageError(`metrics: pipeline "${pipeline}" has no completed run in the metrics store yet`);
  const runs = Math.max(...trends.map((t) => t.runs));
  const lines = [
    `trends of ${pipeline} over its last ${runs} completed run(s) (at most ${TREND_RUNS}; slope per run, flat within ±${TREND_FLAT * 100}% across the window)`,
    "",
    table(
      ["stage", "figure", "runs", "first", "last", "slope/run", "change", "direction"],
      trends.map((t) => [
        t.stage === "*" ? "(run)" : t.stage,
        FIGURE[t.metric],
        String(t.runs),
        value(t, t.firstValue),
        value(t, t.lastValue),
        value(t, t.slope, true),
        t.change === null ? "-" : `${t.change > 0 ? "+" : ""}${(t.change * 100).toFixed(0)}%`,
        t.direction ?? `- (under ${TREND_MIN_RUNS} runs)`,
      ]),
    ),
  ];
  stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
