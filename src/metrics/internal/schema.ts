/**
 * @module The metrics database schema: raw tables (from `tables.ts`), the
 * 5 s and 1 min rollups, bookkeeping tables, and the stable views and table
 * macros documented in docs/metrics.md. Tables are created if missing (and
 * gain columns added since); views and macros are replaced on every writer
 * open, so a newer sluice brings its definitions with it while the data stays.
 *
 * Percentiles come from the fixed histogram buckets (`BUCKET_BOUNDS_MS`) the
 * same way `Histogram.percentile` reads them: the bucket holding rank
 * ceil(p/100 · count), reported as its upper bound capped by the largest
 * value seen. Every source row (raw event, 5 s or 1 min rollup) carries its
 * own p50/p95/p99, so a time bucket made of one source row needs no merge;
 * otherwise the bucket's sparse histograms are merged in one pass
 * (`lat_pairs` sorts their (bucket, count) pairs, `lat_rank_idx` walks them
 * with a running sum). Stage views group once, with no join, so filters on
 * run, stage or pipeline reach the scan.
 */
import { CPU_BOUND_SHARE, IO_BOUND_SHARE } from "../bound.ts";
import { BUCKET_BOUNDS_MS } from "../histogram.ts";
import { CLUSTER_SQL } from "./cluster-sql.ts";
import { storedColumns } from "./columns.ts";
import { ROLLUPS } from "./rollup.ts";
import { rollupColumns } from "./rollup-rows.ts";
import { TABLES } from "./tables.ts";
import { TRENDS_SQL } from "./trends-sql.ts";

/** Bumped when a table changes shape; views may change freely. */
export const SCHEMA_VERSION = 2;

function createTable(name: string, cols: Array<[string, string]>): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (${cols.map(([n, t]) => `${n} ${t}`).join(", ")});`;
}

export function tableDdl(): string {
  const raw = TABLES.map((t) => createTable(t.table, storedColumns(t.columns)));
  return [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR);",
    ...raw,
    ...ROLLUPS.map((r) => createTable(r.table, storedColumns(rollupColumns(r.time)))),
    createTable("ingest_marks", [
      ["run_id", "VARCHAR"],
      ["pipeline", "VARCHAR"],
      ["seq", "BIGINT"],
      ["ts", "TIMESTAMP"],
    ]),
    createTable("bench_results", [
      ["scenario", "VARCHAR"],
      ["run_id", "VARCHAR"],
      ["ts", "TIMESTAMP"],
      ["runtime", "VARCHAR"],
      ["host", "VARCHAR"],
      ["metric", "VARCHAR"],
      ["value", "DOUBLE"],
      ["unit", "VARCHAR"],
      ["better", "VARCHAR"],
      ["tags", "JSON"],
    ]),
  ].join("\n");
}

/**
 * Statements bringing tables made by an older version up to date, given the
 * columns they have (`table → columns`): columns added since.
 */
export function migrationDdl(existing: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const out: string[] = [];
  const all: Array<[string, Array<[string, string]>]> = [
    ...TABLES.map((t) => [t.table, storedColumns(t.columns)] as [string, Array<[string, string]>]),
    ...ROLLUPS.map(
      (r) => [r.table, storedColumns(rollupColumns(r.time))] as [string, Array<[string, string]>],
    ),
  ];
  for (const [table, cols] of all) {
    const have = existing.get(table);
    if (!have) continue;
    for (const [c, type] of cols) {
      if (!have.has(c)) {
        out.push(`ALTER TABLE ${table} ADD COLUMN ${c} ${type};`);
      }
    }
  }
  return out;
}

const BOUNDS = `[${BUCKET_BOUNDS_MS.join(", ")}]`;

/**
 * What limits a stage while it is busy (`bound.ts` says why these thresholds):
 * `cpu` when its code ran at least half of its busy time, `io` when it ran
 * under a fifth (waiting on I/O, timers or workers), `mixed` between, NULL
 * when CPU time is not measured (source, sink, parallelMap, older journals)
 * or the stage was never busy.
 */
const BOUND_BY = `CASE WHEN cpu_ms IS NULL OR busy_ms IS NULL OR busy_ms <= 0 THEN NULL
  WHEN cpu_ms >= ${CPU_BOUND_SHARE} * busy_ms THEN 'cpu'
  WHEN cpu_ms < ${IO_BOUND_SHARE} * busy_ms THEN 'io' ELSE 'mixed' END`;

/** Sums over source rows (raw events or rollup rows) of one stage and bucket. */
const STAGE_SUMS = `
  count(*) AS n_src, sum(events)::BIGINT AS events, sum(chunks)::BIGINT AS chunks, sum(rows_in)::BIGINT AS rows_in,
  sum(rows_out)::BIGINT AS rows_out, sum(filtered)::BIGINT AS filtered,
  sum(dead_lettered)::BIGINT AS dead_lettered, sum(errors)::BIGINT AS errors, sum(bytes)::BIGINT AS bytes,
  sum(busy_ms) AS busy_ms, sum(cpu_ms) AS cpu_ms, sum(interval_ms) AS interval_ms, max(queue_depth_max) AS queue_depth,
  sum(lat_count)::BIGINT AS lat_count, sum(lat_sum_ms) AS lat_sum_ms, max(lat_max_ms) AS lat_max_ms,
  any_value(p50_ms) AS p50_one, any_value(p95_ms) AS p95_one, any_value(p99_ms) AS p99_one,
  list(lat_idx) AS idx_l, list(lat_n) AS n_l`;

/** Figures from the sums (`bucket`, `width_s` included when `bucketed`). */
function stageFigures(bucketed: boolean): string {
  return `
  pipeline, run_id, stage, stage_index,${bucketed ? " bucket, width_s," : ""} events, chunks,
  rows_in AS rows, rows_in, rows_out, filtered, dead_lettered, errors, bytes,
  rows_in * 1000.0 / nullif(interval_ms, 0) AS rows_per_s,
  bytes * 1000.0 / nullif(interval_ms, 0) AS bytes_per_s,
  errors / nullif(rows_in, 0)::DOUBLE AS error_rate,
  dead_lettered / nullif(rows_in, 0)::DOUBLE AS dead_letter_rate,
  busy_ms, interval_ms, busy_ms / nullif(interval_ms, 0) AS busy_share, queue_depth,
  cpu_ms, CASE WHEN cpu_ms IS NOT NULL THEN greatest(busy_ms - cpu_ms, 0) END AS wait_ms,
  cpu_ms / nullif(busy_ms, 0) AS cpu_share,
  ${BOUND_BY} AS bound_by,
  lat_count, lat_sum_ms / nullif(lat_count, 0) AS mean_ms, lat_max_ms AS max_ms,
  CASE WHEN n_src = 1 AND p50_one IS NOT NULL THEN p50_one ELSE lat_pct(pairs, lat_count, 0.5, lat_max_ms) END AS p50_ms,
  CASE WHEN n_src = 1 AND p95_one IS NOT NULL THEN p95_one ELSE lat_pct(pairs, lat_count, 0.95, lat_max_ms) END AS p95_ms,
  CASE WHEN n_src = 1 AND p99_one IS NOT NULL THEN p99_one ELSE lat_pct(pairs, lat_count, 0.99, lat_max_ms) END AS p99_ms`;
}

/** Per-stage figures grouped by `keys` over `source`, in one aggregation (no join). */
function stageAggregate(source: string, bucketExpr: string | undefined): string {
  const bucket = bucketExpr ? `${bucketExpr} AS bucket, epoch(width) AS width_s,` : "";
  const keys = bucketExpr ? "run_id, stage, bucket" : "run_id, stage";
  return `
SELECT ${stageFigures(bucketExpr !== undefined)}${bucketExpr ? "" : ", first_at, last_at"}
FROM (
  SELECT *, CASE WHEN n_src = 1 AND p50_one IS NOT NULL THEN NULL ELSE lat_pairs(idx_l, n_l) END AS pairs
  FROM (
    SELECT any_value(pipeline) AS pipeline, run_id, stage, any_value(stage_index) AS stage_index, ${bucket}
           min(first_at) AS first_at, max(last_at) AS last_at, ${STAGE_SUMS}
    FROM ${source} GROUP BY ${keys}
  )
)`;
}

/** The columns every stage source row has (raw events and rollup rows alike). */
const SOURCE_COLUMNS = `run_id, pipeline, stage, stage_index, events, chunks, rows_in, rows_out, filtered,
  dead_lettered, errors, bytes, busy_ms, cpu_ms, interval_ms, queue_depth_max, lat_count, lat_sum_ms, lat_max_ms,
  p50_ms, p95_ms, p99_ms, lat_idx, lat_n`;

/** A rollup's rows shaped like `stageAggregate`'s groups of one row (percentiles as stored). */
function directSource(table: string, extra = ""): string {
  return `SELECT pipeline, run_id, stage, stage_index, 1 AS n_src, events, chunks, rows_in, rows_out, filtered,
    dead_lettered, errors, bytes, busy_ms, cpu_ms, interval_ms, queue_depth_max AS queue_depth, lat_count, lat_sum_ms,
    lat_max_ms, p50_ms AS p50_one, p95_ms AS p95_one, p99_ms AS p99_one, NULL AS pairs,
    first_ts AS first_at, last_ts AS last_at${extra ? `, ${extra}` : ""} FROM ${table}`;
}

/** Per-stage figures straight from a rollup whose bucket is the requested width (`when`). */
function direct(table: string, time: string, when: string): string {
  return `SELECT ${stageFigures(true)} FROM (
  SELECT *, ${time} AS bucket, epoch(width) AS width_s FROM (${directSource(table, time)})
) WHERE ${when}`;
}

export function viewDdl(): string {
  return `
CREATE OR REPLACE MACRO lat_bound(i) AS (${BOUNDS})[i + 1];

-- Sparse histograms (lists of bucket indexes and lists of counts) as (i, n) pairs sorted by bucket.
CREATE OR REPLACE MACRO lat_pairs(idx_lists, n_lists) AS
  list_sort(list_transform(list_zip(flatten(idx_lists), flatten(n_lists)), z -> {'i': z[1]::DOUBLE, 'n': z[2]::DOUBLE}));

-- The bucket index where the running count of sorted pairs first reaches rank r (NULL if never).
CREATE OR REPLACE MACRO lat_rank_idx(pairs, r) AS nullif(list_reduce(
  list_prepend({'i': -1::DOUBLE, 'n': 0::DOUBLE}, pairs),
  (acc, x) -> CASE WHEN acc.i >= 0 THEN acc
                   WHEN acc.n + x.n >= r THEN {'i': x.i, 'n': acc.n + x.n}
                   ELSE {'i': -1::DOUBLE, 'n': acc.n + x.n} END).i, -1);

-- The p-quantile (0..1) of merged pairs of \`total\` observations whose largest is mx.
CREATE OR REPLACE MACRO lat_pct(pairs, total, p, mx) AS
  least(lat_bound(CAST(lat_rank_idx(pairs, greatest(1, ceil(p::DOUBLE * total))) AS INTEGER)), mx);

-- Source rows for a bucket width: the 1 min rollup for whole minutes, the 5 s rollup for
-- multiples of 5 s, raw events otherwise. The other branches fold away at plan time.
CREATE OR REPLACE MACRO stage_metrics_source(width) AS TABLE
SELECT ${SOURCE_COLUMNS}, ts AS t, ts AS first_at, ts AS last_at
FROM (SELECT *, 1 AS events, queue_depth AS queue_depth_max FROM stage_progress)
WHERE epoch(width) % 5 <> 0
UNION ALL BY NAME
SELECT ${SOURCE_COLUMNS}, bucket AS t, first_ts AS first_at, last_ts AS last_at FROM stage_rollup_5s
WHERE epoch(width) % 5 = 0 AND epoch(width) % 60 <> 0
UNION ALL BY NAME
SELECT ${SOURCE_COLUMNS}, minute AS t, first_ts AS first_at, last_ts AS last_at FROM stage_rollup_1m
WHERE epoch(width) % 60 = 0;

-- Per stage per time bucket of the given width (an INTERVAL). Exactly 5 s or 1 min: the
-- rollup rows as they are (one per bucket, percentiles precomputed); otherwise merged.
CREATE OR REPLACE MACRO stage_metrics_by(width) AS TABLE
${direct("stage_rollup_5s", "bucket", "epoch(width) = 5")}
UNION ALL BY NAME
${direct("stage_rollup_1m", "minute", "epoch(width) = 60")}
UNION ALL BY NAME
SELECT * FROM (${stageAggregate("stage_metrics_source(width)", "time_bucket(width, t)")})
WHERE epoch(width) <> 5 AND epoch(width) <> 60;

CREATE OR REPLACE VIEW stage_metrics AS SELECT * FROM stage_metrics_by(INTERVAL 1 SECOND);
CREATE OR REPLACE VIEW stage_metrics_1m AS SELECT * FROM stage_metrics_by(INTERVAL 1 MINUTE);

-- Whole-run figures per stage: the run rollup, kept as events arrive.
CREATE OR REPLACE VIEW stage_totals AS
SELECT ${stageFigures(false)}, first_at, last_at
FROM (${directSource("stage_rollup_run")});

CREATE OR REPLACE VIEW runs AS
WITH s AS (
  SELECT run_id, any_value(pipeline) AS pipeline, min(ts) AS started_at, max(seq) AS last_start_seq,
         max(ts) AS last_started_at, count(*)::INTEGER AS attempts, arg_max(stages, seq) AS stages,
         arg_max(source, seq) AS source, arg_max(sink, seq) AS sink, arg_max(runtime, seq) AS runtime,
         arg_max(runtime_version, seq) AS runtime_version, arg_max(host, seq) AS host,
         arg_max(definition_hash, seq) AS definition_hash, arg_max(source_bytes, seq) AS source_bytes
  FROM run_starts GROUP BY run_id
), e AS (
  SELECT run_id, max(seq) AS last_end_seq, max(ts) AS ended_at, arg_max(status, seq) AS status,
         arg_max(rows_in, seq) AS rows_in, arg_max(rows_out, seq) AS rows_out, arg_max(filtered, seq) AS filtered,
         arg_max(dead_lettered, seq) AS dead_lettered, arg_max(error, seq) AS error,
         sum(duration_ms) AS duration_ms
  FROM run_ends GROUP BY run_id
), p AS (
  SELECT run_id, sum(rows_in) FILTER (WHERE stage_index = 0)::BIGINT AS rows_in,
         sum(rows_out) FILTER (WHERE stage = 'sink')::BIGINT AS rows_out, sum(filtered)::BIGINT AS filtered,
         sum(dead_lettered)::BIGINT AS dead_lettered
  FROM stage_rollup_run GROUP BY run_id
), live AS (
  SELECT m.run_id, coalesce(s.pipeline, m.pipeline) AS pipeline,
         CASE WHEN e.last_end_seq > coalesce(s.last_start_seq, 0) THEN e.status ELSE 'running' END AS status,
         s.started_at, m.ts AS last_event_at, s.last_started_at, s.attempts, s.stages, s.source, s.sink, s.runtime,
         s.runtime_version, s.host, s.definition_hash, s.source_bytes, m.seq AS events, e.*  EXCLUDE (run_id, status),
         p.rows_in AS p_rows_in, p.rows_out AS p_rows_out, p.filtered AS p_filtered,
         p.dead_lettered AS p_dead_lettered
  FROM ingest_marks m LEFT JOIN s USING (run_id) LEFT JOIN e USING (run_id) LEFT JOIN p USING (run_id)
)
SELECT run_id, pipeline, status, started_at,
       CASE WHEN status = 'running' THEN NULL ELSE ended_at END AS ended_at,
       CASE WHEN status = 'running'
            THEN coalesce(duration_ms, 0) + epoch_ms(last_event_at) - epoch_ms(coalesce(last_started_at, last_event_at))
            ELSE duration_ms END AS duration_ms,
       CASE WHEN status = 'running' THEN p_rows_in ELSE rows_in END AS rows_in,
       CASE WHEN status = 'running' THEN p_rows_out ELSE rows_out END AS rows_out,
       CASE WHEN status = 'running' THEN p_filtered ELSE filtered END AS filtered,
       CASE WHEN status = 'running' THEN p_dead_lettered ELSE dead_lettered END AS dead_lettered,
       error, attempts, runtime, runtime_version, host, definition_hash, source, sink, stages, source_bytes,
       events, last_event_at
FROM live;

CREATE OR REPLACE VIEW alerts AS
SELECT r.run_id, r.pipeline, r.alert_id, r.rule, r.severity, r.stage, r.ts AS raised_at,
       (SELECT min(x.ts) FROM alert_events x
        WHERE x.event = 'resolved' AND x.run_id = r.run_id AND x.alert_id = r.alert_id AND x.seq > r.seq) AS resolved_at,
       r.value, r.threshold, r.message,
       (SELECT arg_min(x.value, x.seq) FROM alert_events x
        WHERE x.event = 'resolved' AND x.run_id = r.run_id AND x.alert_id = r.alert_id AND x.seq > r.seq) AS resolved_value,
       r.seq
FROM alert_events r WHERE r.event = 'raised';

-- Adaptive configuration's changes (and the chunk operator's adaptive size), in order.
CREATE OR REPLACE VIEW config_changes AS
SELECT run_id, pipeline, seq, ts, stage, payload->>'setting' AS setting,
       (payload->>'from')::DOUBLE AS from_value, (payload->>'to')::DOUBLE AS to_value,
       payload->>'reason' AS reason
FROM events_other WHERE kind = 'config.changed';

CREATE OR REPLACE MACRO resource_metrics_by(width) AS TABLE
SELECT any_value(pipeline) AS pipeline, run_id, time_bucket(width, ts) AS bucket, count(*)::BIGINT AS samples,
       avg(cpu_percent) AS cpu_percent, max(cpu_percent) AS cpu_percent_max, max(rss_bytes) AS rss_bytes,
       max(heap_used_bytes) AS heap_used_bytes, max(event_loop_delay_ms) AS event_loop_delay_ms
FROM resource_samples GROUP BY run_id, bucket;

CREATE OR REPLACE MACRO cache_metrics_by(width) AS TABLE
SELECT any_value(pipeline) AS pipeline, run_id, stage, time_bucket(width, ts) AS bucket,
       sum(hits)::BIGINT AS hits, sum(misses)::BIGINT AS misses, sum(evictions)::BIGINT AS evictions,
       sum(l2_hits)::BIGINT AS l2_hits, arg_max(entries, seq) AS entries, arg_max(bytes, seq) AS bytes,
       sum(hits) / nullif(sum(hits) + sum(misses), 0)::DOUBLE AS hit_rate
FROM cache_stats GROUP BY run_id, stage, bucket;

CREATE OR REPLACE MACRO window_metrics_by(width) AS TABLE
SELECT any_value(pipeline) AS pipeline, run_id, stage, time_bucket(width, ts) AS bucket,
       arg_max(watermark, seq) AS watermark, arg_max(max_event_time, seq) AS max_event_time,
       arg_max(lag_ms, seq) AS lag_ms, max(lag_ms) AS lag_ms_max, arg_max(open_windows, seq) AS open_windows,
       max(open_windows) AS open_windows_max, sum(late)::BIGINT AS late, sum(late_accepted)::BIGINT AS late_accepted,
       max(max_skew_ms) AS max_skew_ms
FROM window_progress GROUP BY run_id, stage, bucket;

CREATE OR REPLACE MACRO worker_metrics_by(width) AS TABLE
SELECT any_value(pipeline) AS pipeline, run_id, stage, time_bucket(width, ts) AS bucket,
       avg(workers) AS workers, max(workers) AS workers_max, avg(busy) AS busy, max(queue_depth) AS queue_depth,
       sum(completed)::BIGINT AS completed, sum(failed)::BIGINT AS failed, sum(retried)::BIGINT AS retried,
       avg(avg_task_ms) AS avg_task_ms, avg(utilisation) AS utilisation
FROM worker_stats GROUP BY run_id, stage, bucket;

CREATE OR REPLACE MACRO run_metrics_by(width) AS TABLE
WITH st AS (
  SELECT any_value(pipeline) AS pipeline, run_id, bucket,
         sum(rows_in) FILTER (WHERE stage_index = 0)::BIGINT AS rows_in,
         sum(rows_out) FILTER (WHERE stage = 'sink')::BIGINT AS rows_out,
         max(interval_ms) FILTER (WHERE stage_index = 0) AS interval_ms,
         sum(errors)::BIGINT AS errors, sum(dead_lettered)::BIGINT AS dead_lettered, max(queue_depth) AS queue_depth,
         max(p99_ms) AS p99_ms_max
  FROM stage_metrics_by(width) GROUP BY run_id, bucket
), rt AS (
  SELECT run_id, time_bucket(width, ts) AS bucket, count(*)::BIGINT AS retries FROM retries GROUP BY ALL
), ca AS (
  SELECT run_id, bucket, sum(hits)::BIGINT AS cache_hits, sum(misses)::BIGINT AS cache_misses
  FROM cache_metrics_by(width) GROUP BY ALL
), wk AS (
  SELECT run_id, bucket, avg(utilisation) AS worker_utilisation, sum(workers) AS workers,
         max(queue_depth) AS worker_queue_depth
  FROM worker_metrics_by(width) GROUP BY ALL
), rs AS (SELECT * EXCLUDE (pipeline) FROM resource_metrics_by(width)),
k AS (
  SELECT run_id, bucket FROM st UNION SELECT run_id, bucket FROM rt UNION SELECT run_id, bucket FROM ca
  UNION SELECT run_id, bucket FROM wk UNION SELECT run_id, bucket FROM rs
)
SELECT coalesce(st.pipeline, (SELECT any_value(m.pipeline) FROM ingest_marks m WHERE m.run_id = k.run_id)) AS pipeline,
       k.run_id, k.bucket, epoch(width) AS width_s, st.rows_in, st.rows_out,
       st.rows_in * 1000.0 / nullif(st.interval_ms, 0) AS rows_per_s,
       st.errors, st.errors / nullif(st.rows_in, 0)::DOUBLE AS error_rate,
       coalesce(rt.retries, 0) AS retries, coalesce(rt.retries, 0) / nullif(st.rows_in, 0)::DOUBLE AS retry_rate,
       st.dead_lettered, st.dead_lettered / nullif(st.rows_in, 0)::DOUBLE AS dead_letter_rate,
       greatest(st.queue_depth, wk.worker_queue_depth) AS queue_depth, st.p99_ms_max,
       ca.cache_hits, ca.cache_misses, ca.cache_hits / nullif(ca.cache_hits + ca.cache_misses, 0)::DOUBLE AS cache_hit_rate,
       wk.workers, wk.worker_utilisation,
       rs.cpu_percent, rs.rss_bytes, rs.heap_used_bytes, rs.event_loop_delay_ms
FROM k LEFT JOIN st USING (run_id, bucket) LEFT JOIN rt USING (run_id, bucket) LEFT JOIN ca USING (run_id, bucket)
LEFT JOIN wk USING (run_id, bucket) LEFT JOIN rs USING (run_id, bucket);

CREATE OR REPLACE VIEW run_metrics AS SELECT * FROM run_metrics_by(INTERVAL 1 SECOND);

-- One row per run with the figures baselines and regressions compare.
CREATE OR REPLACE VIEW run_stats AS
WITH st AS (
  SELECT run_id, max(p99_ms) AS p99_ms, sum(errors)::BIGINT AS errors, sum(busy_ms) AS busy_ms
  FROM stage_totals GROUP BY run_id
), rs AS (
  SELECT run_id, max(rss_bytes) AS peak_rss_bytes, avg(cpu_percent) AS cpu_percent,
         max(event_loop_delay_ms) AS event_loop_delay_ms,
         regr_slope(rss_bytes, epoch(ts)) * 60 AS rss_slope_bytes_per_min
  FROM resource_samples GROUP BY run_id
)
SELECT r.run_id, r.pipeline, r.status, r.started_at, r.ended_at, r.runtime, r.host, r.definition_hash,
       r.source_bytes, r.duration_ms, r.rows_in, r.rows_out, r.dead_lettered,
       r.rows_in * 1000.0 / nullif(r.duration_ms, 0) AS rows_per_s,
       r.dead_lettered / nullif(r.rows_in, 0)::DOUBLE AS dead_letter_rate,
       st.errors / nullif(r.rows_in, 0)::DOUBLE AS error_rate, st.p99_ms,
       rs.peak_rss_bytes, rs.cpu_percent, rs.event_loop_delay_ms, rs.rss_slope_bytes_per_min
FROM runs r LEFT JOIN st USING (run_id) LEFT JOIN rs USING (run_id);

${TRENDS_SQL}
${CLUSTER_SQL}
-- Dead letters grouped by pipeline, run, stage and normalised reason (issue 20): how many, when
-- the first and last came, where (input lines), and a sample of the raw input.
CREATE OR REPLACE VIEW dead_letter_groups AS
SELECT pipeline, run_id, stage, coalesce(reason_group, reason) AS reason, count(*)::BIGINT AS count,
       min(ts) AS first_ts, max(ts) AS last_ts, arg_min(line, seq) AS first_line, arg_max(line, seq) AS last_line,
       arg_min(coalesce(raw, CAST(record AS VARCHAR)), seq) AS sample
FROM dead_letters GROUP BY ALL;

CREATE OR REPLACE VIEW events AS
SELECT run_id, pipeline, seq, ts, 'stage.progress' AS kind, stage, to_json(t) AS payload FROM stage_progress t
UNION ALL SELECT run_id, pipeline, seq, ts, 'resource.sample', NULL, to_json(t) FROM resource_samples t
UNION ALL SELECT run_id, pipeline, seq, ts, 'dead.letter', stage, to_json(t) FROM dead_letters t
UNION ALL SELECT run_id, pipeline, seq, ts, 'retry.scheduled', stage, to_json(t) FROM retries t
UNION ALL SELECT run_id, pipeline, seq, ts, 'worker.stats', stage, to_json(t) FROM worker_stats t
UNION ALL SELECT run_id, pipeline, seq, ts, 'cluster.worker', stage, to_json(t) FROM cluster_workers t
UNION ALL SELECT run_id, pipeline, seq, ts, 'cache.stats', stage, to_json(t) FROM cache_stats t
UNION ALL SELECT run_id, pipeline, seq, ts, 'window.progress', stage, to_json(t) FROM window_progress t
UNION ALL SELECT run_id, pipeline, seq, ts, 'alert.' || event, stage, to_json(t) FROM alert_events t
UNION ALL SELECT run_id, pipeline, seq, ts, 'run.started', NULL, to_json(t) FROM run_starts t
UNION ALL SELECT run_id, pipeline, seq, ts, 'run.ended', NULL, to_json(t) FROM run_ends t
UNION ALL SELECT run_id, pipeline, seq, ts, 'checkpoint', NULL, to_json(t) FROM checkpoints t
UNION ALL SELECT run_id, pipeline, seq, ts, kind, stage, payload FROM events_other t;
`;
}

/**
 * The catch-up's marks (run, journal size, where reading stopped, seq
 * reached; see `catch-up.ts`). Pruning a run sets its mark's segment to
 * `PRUNED_SEGMENT`: skipped while the journal keeps its size, read again from
 * the start if the run is resumed.
 */
export const JOURNAL_MARKS = "_sluice_journal_marks";
export const PRUNED_SEGMENT = -1;

/** Tables holding per-run rows (what `prune` deletes from). */
export const RUN_TABLES: readonly string[] = [
  ...TABLES.map((t) => t.table),
  ...ROLLUPS.map((r) => r.table),
  "ingest_marks",
];
