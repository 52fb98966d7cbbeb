/**
 * @module `summary(runId)`: everything the store knows about one run, as one
 * JSON-able object (the CLI's `sluice metrics RUN` and the HTTP API's run page
 * print it). Per-stage figures are whole-run merges of the minute rollup.
 */
import type { SqlRow, SqlValue } from "../duckdb/client.ts";
import type { Bound } from "./bound.ts";
import { type ClusterWorkerRecord, clusterWorkers } from "./cluster-workers.ts";
import { num, numOrNull, strOrNull } from "./internal/sql-values.ts";
import { MEMORY_MIN_WINDOW_MS, MEMORY_WARMUP_MS, settledGrowthPerMin } from "./memory-growth.ts";

/** What the analysis functions need from the store: trusted SQL with bound parameters. */
export interface MetricsReader {
  all(sql: string, params?: Readonly<Record<string, SqlValue>>): Promise<SqlRow[]>;
}

export interface RunInfo {
  readonly runId: string;
  readonly pipeline: string;
  /** completed | failed | cancelled | interrupted | running (no `run.ended` after the last start). */
  readonly status: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  readonly rowsIn: number | null;
  readonly rowsOut: number | null;
  readonly filtered: number | null;
  readonly deadLettered: number | null;
  readonly error: string | null;
  readonly attempts: number | null;
  readonly runtime: string | null;
  readonly runtimeVersion: string | null;
  readonly host: string | null;
  readonly definitionHash: string | null;
  readonly source: string | null;
  readonly sink: string | null;
  readonly stages: readonly string[] | null;
  readonly sourceBytes: number | null;
  /** Sequence number of the last stored event. */
  readonly events: number;
  readonly lastEventAt: string | null;
}

export interface StageFigures {
  readonly stage: string;
  readonly index: number;
  readonly events: number;
  readonly chunks: number;
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly filtered: number;
  readonly deadLettered: number;
  readonly errors: number;
  readonly bytes: number;
  readonly busyMs: number;
  readonly intervalMs: number;
  /** Busy time over measured time. */
  readonly busyShare: number | null;
  /** CPU time (the synchronous part of the stage's work); null where not measured. */
  readonly cpuMs: number | null;
  /** Busy time not running the stage's code: waiting on I/O, timers or workers. */
  readonly waitMs: number | null;
  /** `cpu`, `io` or `mixed` (`bound.ts`); null where CPU time is not measured. */
  readonly boundBy: Bound | null;
  readonly rowsPerS: number | null;
  readonly errorRate: number | null;
  readonly queueDepth: number | null;
  readonly meanMs: number | null;
  readonly maxMs: number | null;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
}

export interface ResourceFigures {
  readonly samples: number;
  readonly cpuPercent: number | null;
  readonly cpuPercentMax: number | null;
  readonly peakRssBytes: number | null;
  readonly firstRssBytes: number | null;
  readonly lastRssBytes: number | null;
  readonly peakHeapUsedBytes: number | null;
  /** Least-squares slope of RSS over time after the warm-up; null for runs too short to tell (see memory-growth.ts). */
  readonly rssSlopeBytesPerMin: number | null;
  readonly eventLoopDelayMsMax: number | null;
}

export interface AlertRecord {
  readonly alertId: string;
  readonly rule: string;
  readonly severity: string;
  readonly stage: string | null;
  readonly raisedAt: string;
  readonly resolvedAt: string | null;
  readonly value: number;
  readonly threshold: number | null;
  readonly message: string | null;
}

/** One `config.changed` event: a setting adaptive configuration (or an adaptive chunk size) changed. */
export interface ConfigChangeRecord {
  readonly seq: number;
  readonly changedAt: string;
  /** The stage whose setting changed; null when the event named none. */
  readonly stage: string | null;
  /** `chunk.rows` or `workers`. */
  readonly setting: string;
  readonly from: number | null;
  readonly to: number | null;
  readonly reason: string | null;
}

export interface RunReport {
  readonly run: RunInfo;
  readonly stages: readonly StageFigures[];
  readonly resources: ResourceFigures | null;
  readonly alerts: readonly AlertRecord[];
  /**
   * The run's configuration changes (`config.changed`), in order. Always set
   * by `runSummary`; absent from reports built elsewhere (adaptive
   * configuration's live report).
   */
  readonly configChanges: readonly ConfigChangeRecord[];
  readonly deadLetters: {
    readonly total: number;
    readonly byReason: ReadonlyArray<{ stage: string; reason: string; count: number }>;
  };
  readonly retries: ReadonlyArray<{ stage: string; retries: number; maxAttempt: number }>;
  readonly caches: ReadonlyArray<{
    stage: string;
    hits: number;
    misses: number;
    evictions: number;
    hitRate: number | null;
    entries: number | null;
  }>;
  /** Event-time window stages (`window.progress`); absent from reports built elsewhere. */
  readonly windows?: ReadonlyArray<{
    stage: string;
    /** Records too late (dead-lettered) and late but within lateness. */
    late: number;
    lateAccepted: number;
    /** The smallest lag seen: the out-of-order bound (more while a partition lagged). */
    lagMsMin: number | null;
    lagMsMax: number | null;
    /** The largest event-time skew of a record: max event time seen before it − its time. */
    maxSkewMs: number | null;
    openWindowsMax: number | null;
  }>;
  readonly workers: ReadonlyArray<{
    stage: string;
    workersMax: number;
    utilisation: number | null;
    queueDepthMax: number | null;
    completed: number;
    failed: number;
    avgTaskMs: number | null;
  }>;
  /** Remote workers of distributed parallelMaps (empty without); absent from reports built elsewhere. */
  readonly clusterWorkers?: readonly ClusterWorkerRecord[];
}

export { num, numOrNull, strOrNull };

export function toRunInfo(r: SqlRow): RunInfo {
  return {
    runId: String(r.run_id),
    pipeline: String(r.pipeline),
    status: String(r.status),
    startedAt: strOrNull(r.started_at),
    endedAt: strOrNull(r.ended_at),
    durationMs: numOrNull(r.duration_ms),
    rowsIn: numOrNull(r.rows_in),
    rowsOut: numOrNull(r.rows_out),
    filtered: numOrNull(r.filtered),
    deadLettered: numOrNull(r.dead_lettered),
    error: strOrNull(r.error),
    attempts: numOrNull(r.attempts),
    runtime: strOrNull(r.runtime),
    runtimeVersion: strOrNull(r.runtime_version),
    host: strOrNull(r.host),
    definitionHash: strOrNull(r.definition_hash),
    source: strOrNull(r.source),
    sink: strOrNull(r.sink),
    stages: Array.isArray(r.stages) ? r.stages.map(String) : null,
    sourceBytes: numOrNull(r.source_bytes),
    events: num(r.events),
    lastEventAt: strOrNull(r.last_event_at),
  };
}

export function toStageFigures(r: SqlRow): StageFigures {
  return {
    stage: String(r.stage),
    index: num(r.stage_index),
    events: num(r.events),
    chunks: num(r.chunks),
    rowsIn: num(r.rows_in),
    rowsOut: num(r.rows_out),
    filtered: num(r.filtered),
    deadLettered: num(r.dead_lettered),
    errors: num(r.errors),
    bytes: num(r.bytes),
    busyMs: num(r.busy_ms),
    intervalMs: num(r.interval_ms),
    busyShare: numOrNull(r.busy_share),
    cpuMs: numOrNull(r.cpu_ms),
    waitMs: numOrNull(r.wait_ms),
    boundBy: r.bound_by === "cpu" || r.bound_by === "io" || r.bound_by === "mixed" ? r.bound_by : null,
    rowsPerS: numOrNull(r.rows_per_s),
    errorRate: numOrNull(r.error_rate),
    queueDepth: numOrNull(r.queue_depth),
    meanMs: numOrNull(r.mean_ms),
    maxMs: numOrNull(r.max_ms),
    p50Ms: numOrNull(r.p50_ms),
    p95Ms: numOrNull(r.p95_ms),
    p99Ms: numOrNull(r.p99_ms),
  };
}

/** The run's report, or undefined when the store has no event of it. */
export async function runSummary(db: MetricsReader, runId: string): Promise<RunReport | undefined> {
  const p = { run: runId };
  const [run] = await db.all("SELECT * FROM runs WHERE run_id = $run", p);
  if (!run) return undefined;
  const stages = await db.all(
    "SELECT * FROM stage_totals WHERE run_id = $run ORDER BY stage_index, stage",
    p,
  );
  const [res] = await db.all(
    `SELECT count(*) AS samples, avg(cpu_percent) AS cpu, max(cpu_percent) AS cpu_max, max(rss_bytes) AS rss_max,
            arg_min(rss_bytes, seq) AS rss_first, arg_max(rss_bytes, seq) AS rss_last, max(heap_used_bytes) AS heap_max,
            max(event_loop_delay_ms) AS loop_max
     FROM resource_samples WHERE run_id = $run`,
    p,
  );
  // RSS over the latest attempt (a resumed run starts a new process), warm-up counted from its start.
  const rss = await db.all(
    `SELECT epoch_ms(ts) AS t, rss_bytes AS b,
            (SELECT epoch_ms(max(ts)) FROM run_starts WHERE run_id = $run) AS t0
     FROM resource_samples WHERE run_id = $run ORDER BY ts, seq`,
    p,
  );
  const alerts = await db.all("SELECT * FROM alerts WHERE run_id = $run ORDER BY raised_at, seq", p);
  const changes = await db.all("SELECT * FROM config_changes WHERE run_id = $run ORDER BY seq", p);
  const dl = await db.all(
    `SELECT stage, reason, count(*) AS n FROM dead_letters WHERE run_id = $run
     GROUP BY ALL ORDER BY n DESC, stage, reason LIMIT 10`,
    p,
  );
  const [dlTotal] = await db.all("SELECT count(*) AS n FROM dead_letters WHERE run_id = $run", p);
  const retries = await db.all(
    "SELECT stage, count(*) AS n, max(attempt) AS max_attempt FROM retries WHERE run_id = $run GROUP BY stage ORDER BY stage",
    p,
  );
  const caches = await db.all(
    `SELECT stage, sum(hits) AS hits, sum(misses) AS misses, sum(evictions) AS evictions,
            sum(hits) / nullif(sum(hits) + sum(misses), 0)::DOUBLE AS hit_rate, arg_max(entries, seq) AS entries
     FROM cache_stats WHERE run_id = $run GROUP BY stage ORDER BY stage`,
    p,
  );
  const windows = await db.all(
    `SELECT stage, sum(late) AS late, sum(late_accepted) AS late_accepted, min(lag_ms) FILTER (WHERE watermark IS NOT NULL) AS lag_min,
            max(lag_ms) AS lag_max, max(max_skew_ms) AS skew, max(open_windows) AS open_max
     FROM window_progress WHERE run_id = $run GROUP BY stage ORDER BY stage`,
    p,
  );
  const workers = await db.all(
    `SELECT stage, max(workers) AS workers_max, avg(utilisation) AS utilisation, max(queue_depth) AS queue_max,
            sum(completed) AS completed, sum(failed) AS failed, avg(avg_task_ms) AS avg_task_ms
     FROM worker_stats WHERE run_id = $run GROUP BY stage ORDER BY stage`,
    p,
  );
  const cluster = await clusterWorkers(db, runId);
  return {
    run: toRunInfo(run),
    stages: stages.map(toStageFigures),
    resources:
      res && num(res.samples) > 0
        ? {
            samples: num(res.samples),
            cpuPercent: numOrNull(res.cpu),
            cpuPercentMax: numOrNull(res.cpu_max),
            peakRssBytes: numOrNull(res.rss_max),
            firstRssBytes: numOrNull(res.rss_first),
            lastRssBytes: numOrNull(res.rss_last),
            peakHeapUsedBytes: numOrNull(res.heap_max),
            rssSlopeBytesPerMin: settledGrowthPerMin(
              rss.map((r) => [num(r.t), num(r.b)] as const),
              rss.length > 0 ? num(rss[0].t0 ?? rss[0].t) : 0,
              { warmupMs: MEMORY_WARMUP_MS, minWindowMs: MEMORY_MIN_WINDOW_MS },
            ),
            eventLoopDelayMsMax: numOrNull(res.loop_max),
          }
        : null,
    alerts: alerts.map((a) => ({
      alertId: String(a.alert_id),
      rule: String(a.rule),
      severity: String(a.severity),
      stage: strOrNull(a.stage),
      raisedAt: String(a.raised_at),
      resolvedAt: strOrNull(a.resolved_at),
      value: num(a.value),
      threshold: numOrNull(a.threshold),
      message: strOrNull(a.message),
    })),
    configChanges: changes.map((c) => ({
      seq: num(c.seq),
      changedAt: String(c.ts),
      stage: strOrNull(c.stage),
      setting: String(c.setting),
      from: numOrNull(c.from_value),
      to: numOrNull(c.to_value),
      reason: strOrNull(c.reason),
    })),
    deadLetters: {
      total: num(dlTotal?.n),
      byReason: dl.map((r) => ({ stage: String(r.stage), reason: String(r.reason), count: num(r.n) })),
    },
    retries: retries.map((r) => ({
      stage: String(r.stage),
      retries: num(r.n),
      maxAttempt: num(r.max_attempt),
    })),
    caches: caches.map((r) => ({
      stage: String(r.stage),
      hits: num(r.hits),
      misses: num(r.misses),
      evictions: num(r.evictions),
      hitRate: numOrNull(r.hit_rate),
      entries: numOrNull(r.entries),
    })),
    windows: windows.map((r) => ({
      stage: String(r.stage),
      late: num(r.late),
      lateAccepted: num(r.late_accepted),
      lagMsMin: numOrNull(r.lag_min),
      lagMsMax: numOrNull(r.lag_max),
      maxSkewMs: numOrNull(r.skew),
      openWindowsMax: numOrNull(r.open_max),
    })),
    workers: workers.map((r) => ({
      stage: String(r.stage),
      workersMax: num(r.workers_max),
      utilisation: numOrNull(r.utilisation),
      queueDepthMax: numOrNull(r.queue_max),
      completed: num(r.completed),
      failed: num(r.failed),
      avgTaskMs: numOrNull(r.avg_task_ms),
    })),
    clusterWorkers: cluster,
  };
}
