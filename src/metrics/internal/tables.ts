/**
 * @module Which table each event kind lands in, and its columns. Hot kinds get
 * typed tables (numbers stay numbers, so views aggregate without parsing
 * JSON); rare kinds share `events_other` with a JSON payload. Every raw row
 * starts with `run_id, pipeline, seq, ts`, `seq` being the event's per-run
 * sequence number (the k-th durable event of a run has seq k, as in its
 * journal).
 *
 * Each table lists its columns once and has one `row` function returning the
 * values in that order (a test checks the two agree for every kind). The
 * column list is the single source for CREATE TABLE, the batch source and the
 * INSERT expressions.
 */
import { normaliseReason } from "../../events/dead-letter-reason.ts";
import type { EventKind, EventOf, SluiceEvent } from "../../events/schema.ts";
import type { ColumnKind, ColumnSpec } from "./columns.ts";
import { sparsePercentiles } from "./sparse-hist.ts";

export interface TableDef {
  readonly table: string;
  readonly kinds: readonly EventKind[];
  readonly columns: readonly ColumnSpec[];
  /** The event's values after the common four, in column order. */
  readonly row: (e: SluiceEvent) => unknown[];
}

type Col = readonly [name: string, kind: ColumnKind, sql?: string];

const COMMON: readonly ColumnSpec[] = [
  { name: "run_id", kind: "sym" },
  { name: "pipeline", kind: "sym" },
  { name: "seq", kind: "num", sql: "BIGINT" },
  { name: "ts", kind: "ts" },
];

function def<K extends EventKind>(
  table: string,
  kinds: readonly K[],
  columns: readonly Col[],
  row: (e: EventOf<K>) => unknown[],
): TableDef {
  return {
    table,
    kinds,
    columns: [...COMMON, ...columns.map(([name, kind, sql]) => ({ name, kind, sql }))],
    row: row as (e: SluiceEvent) => unknown[],
  };
}

const B = "BIGINT";
const I = "INTEGER";
const D = "DOUBLE";

export const TABLES: readonly TableDef[] = [
  def(
    "stage_progress",
    ["stage.progress"],
    [
      ["stage", "sym"],
      ["stage_index", "num", I],
      ["chunks", "num", B],
      ["rows_in", "num", B],
      ["rows_out", "num", B],
      ["filtered", "num", B],
      ["dead_lettered", "num", B],
      ["errors", "num", B],
      ["bytes", "num", B],
      ["busy_ms", "num", D],
      ["interval_ms", "num", D],
      ["queue_depth", "num", D],
      ["lat_count", "num", B],
      ["lat_sum_ms", "num", D],
      ["lat_max_ms", "num", D],
      ["p50_ms", "num", D],
      ["p95_ms", "num", D],
      ["p99_ms", "num", D],
      ["lat", "hist"],
      // Added after the first schema: new columns go last (ALTER TABLE ADD COLUMN appends).
      ["cpu_ms", "num", D],
    ],
    (e) => {
      const p = sparsePercentiles(e.latency);
      return [
        e.stage,
        e.index,
        e.chunks,
        e.rowsIn,
        e.rowsOut,
        e.filtered,
        e.deadLettered,
        e.errors,
        e.bytes,
        e.busyMs,
        e.intervalMs,
        e.queueDepth,
        e.latency.count,
        e.latency.sumMs,
        e.latency.maxMs,
        p[0],
        p[1],
        p[2],
        e.latency,
        e.cpuMs,
      ];
    },
  ),
  def(
    "resource_samples",
    ["resource.sample"],
    [
      ["rss_bytes", "num", B],
      ["heap_used_bytes", "num", B],
      ["cpu_percent", "num", D],
      ["event_loop_delay_ms", "num", D],
    ],
    (e) => [e.rssBytes, e.heapUsedBytes, e.cpuPercent, e.eventLoopDelayMs],
  ),
  def(
    "dead_letters",
    ["dead.letter"],
    [
      ["stage", "sym"],
      ["reason", "str"],
      ["error", "str"],
      ["attempts", "num", I],
      ["file", "str"],
      ["line", "num", B],
      ["byte_offset", "num", B],
      ["chunk", "num", B],
      ["record_index", "num", B],
      ["raw", "str"],
      ["record", "json", "JSON"],
      // The reason with its values normalised (`events/dead-letter-reason.ts`): one group for many rows.
      ["reason_group", "str"],
    ],
    (e) => [
      e.stage,
      e.reason,
      e.error,
      e.attempts,
      e.position.file,
      e.position.line,
      e.position.byteOffset,
      e.position.chunk,
      e.position.index,
      e.raw,
      e.record,
      normaliseReason(e.reason),
    ],
  ),
  def(
    "retries",
    ["retry.scheduled"],
    [
      ["stage", "sym"],
      ["attempt", "num", I],
      ["delay_ms", "num", D],
      ["error", "str"],
    ],
    (e) => [e.stage, e.attempt, e.delayMs, e.error],
  ),
  def(
    "worker_stats",
    ["worker.stats"],
    [
      ["stage", "sym"],
      ["workers", "num", I],
      ["idle", "num", I],
      ["busy", "num", I],
      ["queue_depth", "num", D],
      ["completed", "num", B],
      ["failed", "num", B],
      ["retried", "num", B],
      ["avg_task_ms", "num", D],
      ["utilisation", "num", D],
    ],
    (e) => [
      e.stage,
      e.workers,
      e.idle,
      e.busy,
      e.queueDepth,
      e.completed,
      e.failed,
      e.retried,
      e.avgTaskMs,
      e.utilisation,
    ],
  ),
  // A remote worker of a distributed parallelMap (`sluice worker`): interval deltas per stage and worker.
  def(
    "cluster_workers",
    ["cluster.worker"],
    [
      ["stage", "sym"],
      ["worker_id", "sym"],
      ["host", "sym"],
      ["pid", "num", B],
      ["runtime", "sym"],
      ["state", "sym"],
      ["tasks", "num", B],
      ["records", "num", B],
      ["failures", "num", B],
      ["busy_ms", "num", D],
      ["redelivered", "num", B],
    ],
    (e) => [
      e.stage,
      e.workerId,
      e.host,
      e.pid,
      e.runtime,
      e.state,
      e.tasks,
      e.records,
      e.failures,
      e.busyMs,
      e.redelivered,
    ],
  ),
  def(
    "cache_stats",
    ["cache.stats"],
    [
      ["stage", "sym"],
      ["hits", "num", B],
      ["misses", "num", B],
      ["evictions", "num", B],
      ["promotions", "num", B],
      ["demotions", "num", B],
      ["l2_hits", "num", B],
      ["entries", "num", B],
      ["bytes", "num", B],
      ["hit_rate", "num", D],
    ],
    (e) => [
      e.stage,
      e.hits,
      e.misses,
      e.evictions,
      e.promotions,
      e.demotions,
      e.l2Hits,
      e.entries,
      e.bytes,
      e.hitRate,
    ],
  ),
  def(
    "window_progress",
    ["window.progress"],
    [
      ["stage", "sym"],
      ["watermark", "num", D],
      ["max_event_time", "num", D],
      ["lag_ms", "num", D],
      ["open_windows", "num", B],
      ["late", "num", B],
      ["late_accepted", "num", B],
      ["max_skew_ms", "num", D],
      ["partitions", "num", I],
    ],
    (e) => [
      e.stage,
      e.watermark,
      e.maxEventTime,
      e.lagMs,
      e.openWindows,
      e.late,
      e.lateAccepted,
      e.maxSkewMs,
      e.partitions,
    ],
  ),
  def(
    "alert_events",
    ["alert.raised", "alert.resolved"],
    [
      ["event", "sym"],
      ["alert_id", "str"],
      ["rule", "sym"],
      ["severity", "sym"],
      ["stage", "str"],
      ["value", "num", D],
      ["threshold", "num", D],
      ["message", "str"],
      ["manual", "num", "BOOLEAN"],
    ],
    (e) =>
      e.kind === "alert.raised"
        ? ["raised", e.alertId, e.rule, e.severity, e.stage, e.value, e.threshold, e.message, false]
        : [
            "resolved",
            e.alertId,
            e.rule,
            undefined,
            undefined,
            e.value,
            undefined,
            undefined,
            e.manual === true,
          ],
  ),
  def(
    "run_starts",
    ["run.started"],
    [
      ["stages", "json", "VARCHAR[]"],
      ["source", "str"],
      ["sink", "str"],
      ["runtime", "sym"],
      ["runtime_version", "str"],
      ["host", "str"],
      ["source_bytes", "num", B],
      ["resumed_from", "num", B],
      ["definition_hash", "str"],
    ],
    (e) => [
      e.stages,
      e.source,
      e.sink,
      e.runtime,
      e.runtimeVersion,
      e.host,
      e.sourceBytes,
      e.resumedFrom,
      e.definitionHash,
    ],
  ),
  def(
    "run_ends",
    ["run.ended"],
    [
      ["status", "sym"],
      ["rows_in", "num", B],
      ["rows_out", "num", B],
      ["filtered", "num", B],
      ["dead_lettered", "num", B],
      ["duration_ms", "num", D],
      ["error", "str"],
    ],
    (e) => [e.status, e.rowsIn, e.rowsOut, e.filtered, e.deadLettered, e.durationMs, e.error],
  ),
  // Operator state, sink tokens and source offsets stay in the journal: they can
  // be large and are not metrics.
  def(
    "checkpoints",
    ["checkpoint"],
    [
      ["checkpoint_id", "num", B],
      ["rows_in", "num", B],
      ["rows_out", "num", B],
      ["filtered", "num", B],
      ["dead_lettered", "num", B],
      ["stage_totals", "json", "JSON"],
    ],
    (e) => [e.id, e.rowsIn, e.rowsOut, e.filtered, e.deadLettered, e.stageTotals],
  ),
  def(
    "events_other",
    [
      "circuit.state",
      "rate.limited",
      "bulkhead.shed",
      "worker.lifecycle",
      "config.changed",
      "warning",
      "log",
    ],
    [
      ["kind", "sym"],
      ["stage", "sym"],
      ["payload", "json", "JSON"],
    ],
    (e) => [e.kind, "stage" in e ? e.stage : undefined, payloadOf(e)],
  ),
];

function payloadOf(e: SluiceEvent): Record<string, unknown> {
  const { kind: _k, ts: _t, runId: _r, pipeline: _p, ...rest } = e;
  return rest;
}

const BY_KIND: ReadonlyMap<EventKind, TableDef> = new Map(
  TABLES.flatMap((t) => t.kinds.map((k) => [k, t] as const)),
);
const OTHER = TABLES[TABLES.length - 1];

/**
 * The table of a durable kind: its typed table, or `events_other` for a kind
 * added to the union later (every durable event must be stored, or sequence
 * numbers would drift from the journal's).
 */
export function tableOf(kind: EventKind): TableDef {
  return BY_KIND.get(kind) ?? OTHER;
}
