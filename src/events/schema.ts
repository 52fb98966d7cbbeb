/**
 * @module The one typed event union (DESIGN §2). Every observable thing a run
 * does is one of these; the journal, the metrics store, alerts, SSE and the
 * progress line all consume the same values. Schemas are zod so events read
 * back from a journal or received over HTTP are validated; the hot path builds
 * plain objects of the inferred types and does not parse them.
 */
import { z } from "zod";

import { base } from "./internal/event-base.ts";
import { ClusterWorker, WorkerLifecycle, WorkerStats } from "./internal/worker-events.ts";

export { ClusterWorker, WorkerLifecycle, WorkerStats };

/** Where a record came from: a file position, or a chunk and index within it. */
export const PositionSchema = z.object({
  file: z.string().optional(),
  line: z.number().optional(),
  byteOffset: z.number().optional(),
  chunk: z.number().optional(),
  index: z.number().optional(),
  /** The sheet of a workbook (Excel source; `line` is then the sheet's row number). */
  sheet: z.string().optional(),
  /** Input lines the record covers (file sources; more than 1 when a quoted field holds line breaks). */
  lines: z.number().optional(),
  /** Columnar files (Parquet): the row group, and the row's index in the file (0-based). */
  rowGroup: z.number().optional(),
  row: z.number().optional(),
  /** Broker sources (JetStream): the stream and the message's stream sequence. */
  stream: z.string().optional(),
  seq: z.number().optional(),
});
export type Position = z.infer<typeof PositionSchema>;

/** A latency histogram over fixed log-spaced bucket bounds (see `metrics-histogram`). */
export const HistogramSchema = z.object({
  count: z.number(),
  sumMs: z.number(),
  maxMs: z.number(),
  /** Sparse [bucketIndex, count] pairs. */
  buckets: z.array(z.tuple([z.number(), z.number()])),
});
export type HistogramData = z.infer<typeof HistogramSchema>;

export const RunStarted = z.object({
  kind: z.literal("run.started"),
  ...base,
  stages: z.array(z.string()),
  source: z.string(),
  sink: z.string(),
  runtime: z.string(),
  runtimeVersion: z.string(),
  host: z.string().optional(),
  sourceBytes: z.number().optional(),
  resumedFrom: z.number().optional(),
  definitionHash: z.string().optional(),
  /**
   * The pipeline's own alert rules (its `alerts` option, as defined): alert
   * engines on the run's bus evaluate them unless configured otherwise.
   */
  alerts: z.record(z.string(), z.unknown()).optional(),
});

export const RunEnded = z.object({
  kind: z.literal("run.ended"),
  ...base,
  status: z.enum(["completed", "failed", "cancelled", "interrupted"]),
  rowsIn: z.number(),
  rowsOut: z.number(),
  filtered: z.number(),
  deadLettered: z.number(),
  /** Records sent to side outputs (a window's `late` sink); absent when none. */
  sideOutput: z.number().optional(),
  durationMs: z.number(),
  error: z.string().optional(),
});

/** Per-stage figures for one flush interval (deltas, not totals). */
export const StageProgress = z.object({
  kind: z.literal("stage.progress"),
  ...base,
  stage: z.string(),
  index: z.number(),
  chunks: z.number(),
  rowsIn: z.number(),
  rowsOut: z.number(),
  filtered: z.number(),
  deadLettered: z.number(),
  /** Records the stage sent to a side output in the interval (a window's `late` sink); absent when none. */
  sideOutput: z.number().optional(),
  errors: z.number(),
  bytes: z.number(),
  busyMs: z.number(),
  /** CPU time of the interval (the synchronous part of the stage's work); absent in older journals and for source/sink. */
  cpuMs: z.number().optional(),
  intervalMs: z.number(),
  queueDepth: z.number().optional(),
  latency: HistogramSchema,
});

/** Live run totals, published every 100 ms for progress displays (not journaled). */
export const RunProgress = z.object({
  kind: z.literal("run.progress"),
  ...base,
  rowsIn: z.number(),
  rowsOut: z.number(),
  filtered: z.number(),
  deadLettered: z.number(),
  bytes: z.number(),
  totalBytes: z.number().optional(),
  elapsedMs: z.number(),
});

export const DeadLetter = z.object({
  kind: z.literal("dead.letter"),
  ...base,
  stage: z.string(),
  reason: z.string(),
  error: z.string().optional(),
  attempts: z.number(),
  position: PositionSchema,
  raw: z.string().optional(),
  record: z.unknown().optional(),
});

export const Checkpoint = z.object({
  kind: z.literal("checkpoint"),
  ...base,
  id: z.number(),
  /** Source offset after the last chunk the checkpoint covers. */
  sourceOffset: z.unknown(),
  /** Records read up to the barrier, those the source dead-lettered included (as `run.ended`'s). */
  rowsIn: z.number(),
  operatorState: z.record(z.string(), z.unknown()),
  sinkToken: z.unknown(),
  stageTotals: z.array(
    z.object({
      stage: z.string(),
      rowsIn: z.number(),
      rowsOut: z.number(),
      filtered: z.number(),
      deadLettered: z.number(),
      sideOutput: z.number().optional(),
    }),
  ),
  rowsOut: z.number(),
  filtered: z.number(),
  deadLettered: z.number(),
});

export const RetryScheduled = z.object({
  kind: z.literal("retry.scheduled"),
  ...base,
  stage: z.string(),
  attempt: z.number(),
  delayMs: z.number(),
  error: z.string(),
});

export const CircuitStateChanged = z.object({
  kind: z.literal("circuit.state"),
  ...base,
  stage: z.string(),
  from: z.enum(["closed", "open", "half-open"]),
  to: z.enum(["closed", "open", "half-open"]),
  failureRate: z.number(),
  reason: z.string().optional(),
});

export const RateLimited = z.object({
  kind: z.literal("rate.limited"),
  ...base,
  stage: z.string(),
  waitMs: z.number(),
  records: z.number(),
});

export const BulkheadShed = z.object({
  kind: z.literal("bulkhead.shed"),
  ...base,
  stage: z.string(),
  records: z.number(),
  queued: z.number(),
});

export const CacheStats = z.object({
  kind: z.literal("cache.stats"),
  ...base,
  stage: z.string(),
  hits: z.number(),
  misses: z.number(),
  evictions: z.number(),
  promotions: z.number(),
  demotions: z.number(),
  l2Hits: z.number(),
  entries: z.number(),
  bytes: z.number(),
  hitRate: z.number(),
});

/**
 * An event-time window stage's state for one interval (`window.*`): where its
 * watermark is, how far it trails the largest event time seen (the lag), the
 * windows held and the records that came late (`late`: too late, sent to the
 * dead letter or the stage's `late` sink; `lateAccepted`: behind the watermark but within lateness).
 */
export const WindowProgress = z.object({
  kind: z.literal("window.progress"),
  ...base,
  stage: z.string(),
  /** Epoch ms; absent before the first record and after the final watermark. */
  watermark: z.number().optional(),
  maxEventTime: z.number().optional(),
  /** Largest event time seen − watermark (the out-of-order bound, more while a partition lags). */
  lagMs: z.number(),
  openWindows: z.number(),
  late: z.number(),
  lateAccepted: z.number(),
  /** Largest skew of a record in the interval: max event time seen before it − its event time. */
  maxSkewMs: z.number(),
  partitions: z.number(),
});

export const AlertRaised = z.object({
  kind: z.literal("alert.raised"),
  ...base,
  alertId: z.string(),
  rule: z.string(),
  severity: z.enum(["warning", "critical"]),
  stage: z.string().optional(),
  value: z.number(),
  threshold: z.number(),
  message: z.string(),
});

export const AlertResolved = z.object({
  kind: z.literal("alert.resolved"),
  ...base,
  alertId: z.string(),
  rule: z.string(),
  value: z.number(),
  manual: z.boolean().optional(),
});

export const ResourceSample = z.object({
  kind: z.literal("resource.sample"),
  ...base,
  rssBytes: z.number(),
  heapUsedBytes: z.number(),
  cpuPercent: z.number(),
  eventLoopDelayMs: z.number(),
});

export const ConfigChanged = z.object({
  kind: z.literal("config.changed"),
  ...base,
  stage: z.string(),
  setting: z.string(),
  from: z.number(),
  to: z.number(),
  reason: z.string(),
});

/**
 * Something a user must be told although the run goes on, e.g. `long-record`:
 * a CSV record spanning more lines than any sane file has (an unclosed quote).
 */
export const Warning = z.object({
  kind: z.literal("warning"),
  ...base,
  stage: z.string(),
  code: z.string(),
  message: z.string(),
  position: PositionSchema.optional(),
});

export const Log = z.object({
  kind: z.literal("log"),
  ...base,
  level: z.enum(["info", "warn", "error"]),
  message: z.string(),
  stage: z.string().optional(),
});

/** The whole union. */
export const EventSchema = z.discriminatedUnion("kind", [
  RunStarted,
  RunEnded,
  StageProgress,
  RunProgress,
  DeadLetter,
  Checkpoint,
  RetryScheduled,
  CircuitStateChanged,
  RateLimited,
  BulkheadShed,
  CacheStats,
  WindowProgress,
  WorkerLifecycle,
  WorkerStats,
  ClusterWorker,
  AlertRaised,
  AlertResolved,
  ResourceSample,
  ConfigChanged,
  Warning,
  Log,
]);

export type SluiceEvent = z.infer<typeof EventSchema>;
export type EventKind = SluiceEvent["kind"];
export type EventOf<K extends EventKind> = Extract<SluiceEvent, { kind: K }>;

/** An event before the bus stamps `ts`, `runId` and `pipeline` on it. */
export type EventInput = SluiceEvent extends infer E
  ? E extends SluiceEvent
    ? Omit<E, "ts" | "runId" | "pipeline"> & { ts?: number }
    : never
  : never;

/**
 * Which kinds go to the journal. Durable events are enough to rebuild every
 * projection (status, counts, per-stage totals) and the metrics store after a
 * crash; `run.progress` is a live-only heartbeat for progress displays.
 */
export const durable: Readonly<Record<EventKind, boolean>> = {
  "run.started": true,
  "run.ended": true,
  "stage.progress": true,
  "run.progress": false,
  "dead.letter": true,
  checkpoint: true,
  "retry.scheduled": true,
  "circuit.state": true,
  "rate.limited": true,
  "bulkhead.shed": true,
  "cache.stats": true,
  "window.progress": true,
  "worker.lifecycle": true,
  "worker.stats": true,
  "cluster.worker": true,
  "alert.raised": true,
  "alert.resolved": true,
  "resource.sample": true,
  "config.changed": true,
  warning: true,
  log: true,
};

export const eventKinds = Object.keys(durable) as EventKind[];

/** Validates an unknown value as an event; throws a zod error naming the bad field. */
export function parseEvent(value: unknown): SluiceEvent {
  return EventSchema.parse(value);
}
