/**
 * @module The `trends` view (DESIGN §4, the design card's trend analysis):
 * per pipeline and stage, where throughput, p99 latency and peak RSS are
 * heading over the pipeline's last N completed runs. A least-squares line
 * (`regr_slope`) is fitted to each figure against the run's position (oldest
 * first), so `slope` is the change per run; `change` is the fitted change
 * across the window relative to the window's mean. Within ±`TREND_FLAT`
 * (5%) the direction is `flat`; otherwise `improving` or `worsening` by
 * which way is better for the figure (rows/s up, p99 and RSS down). Fewer
 * than `TREND_MIN_RUNS` runs with the figure: no direction (NULL).
 *
 * Run-level figures carry stage `*` (the run's rows/s, its worst stage p99,
 * its peak RSS); stage rows carry the stage's own rows/s and p99.
 */

/** Runs a trend looks back over by default (`trends`; `trends_over(n)` for another N). */
export const TREND_RUNS = 10;
/** A fitted change across the window within ± this share of the mean is flat. */
export const TREND_FLAT = 0.05;
/** Fewer runs than this with the figure give no direction. */
export const TREND_MIN_RUNS = 3;

export const TRENDS_SQL = `
-- Per pipeline and stage: slope and direction of rows/s, p99 and peak RSS over the last n completed runs.
CREATE OR REPLACE MACRO trends_over(n) AS TABLE
WITH last_n AS (
  SELECT * FROM (
    SELECT run_id, pipeline, started_at, rows_per_s, p99_ms, peak_rss_bytes,
           row_number() OVER (PARTITION BY pipeline ORDER BY started_at DESC, run_id DESC) AS back
    FROM run_stats WHERE status = 'completed' AND started_at IS NOT NULL
  ) WHERE back <= n
), points AS (
  SELECT pipeline, '*' AS stage, -back AS x, run_id, 'rows_per_s' AS metric, rows_per_s AS y FROM last_n
  UNION ALL SELECT pipeline, '*', -back, run_id, 'p99_ms', p99_ms FROM last_n
  UNION ALL SELECT pipeline, '*', -back, run_id, 'peak_rss_bytes', peak_rss_bytes FROM last_n
  UNION ALL SELECT l.pipeline, t.stage, -l.back, l.run_id, 'rows_per_s', t.rows_per_s
    FROM last_n l JOIN stage_totals t USING (run_id)
  UNION ALL SELECT l.pipeline, t.stage, -l.back, l.run_id, 'p99_ms', t.p99_ms
    FROM last_n l JOIN stage_totals t USING (run_id) WHERE t.lat_count > 0
), fit AS (
  SELECT pipeline, stage, metric, count(*)::INTEGER AS runs, regr_slope(y, x) AS slope, avg(y) AS mean,
         arg_min(y, x) AS first_value, arg_max(y, x) AS last_value, arg_max(run_id, x) AS last_run_id
  FROM points WHERE y IS NOT NULL AND isfinite(y) GROUP BY pipeline, stage, metric
), rel AS (
  SELECT *, CASE WHEN metric = 'rows_per_s' THEN 'higher' ELSE 'lower' END AS better,
         slope * (runs - 1) / nullif(abs(mean), 0) AS change
  FROM fit
)
SELECT pipeline, stage, metric, runs, first_value, last_value, mean, slope, change,
       CASE WHEN runs < ${TREND_MIN_RUNS} OR change IS NULL THEN NULL
            WHEN abs(change) < ${TREND_FLAT} THEN 'flat'
            WHEN (change > 0) = (better = 'higher') THEN 'improving' ELSE 'worsening' END AS direction,
       better, last_run_id
FROM rel;

CREATE OR REPLACE VIEW trends AS SELECT * FROM trends_over(${TREND_RUNS});
`;
