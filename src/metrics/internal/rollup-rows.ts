/**
 * @module How rollup buckets become rows: the accumulator of one bucket (the
 * shared progress fold's sums plus a sparse histogram), the columns of the
 * rollup tables, and the encoders that write accumulators as a row or as a
 * typed column batch.
 */

import type { BatchColumnData, ColumnBatch } from "../../duckdb/client.ts";
import type { StageSums } from "../../events/internal/progress-fold.ts";
import { BUCKET_BOUNDS_MS } from "../histogram.ts";
import { type ColumnSpec, symbolCode } from "./columns.ts";
import { type SparseHist, sparsePercentiles } from "./sparse-hist.ts";

/** One rollup bucket of one run's stage: the shared fold's sums, its histogram, and write state. */
export interface RollupAcc extends StageSums {
  readonly runId: string;
  readonly pipeline: string;
  readonly stage: string;
  stageIndex: number;
  /** Bucket start, ms since epoch. */
  readonly bucket: number;
  hist: SparseHist;
  /** A stored row may exist for this key and must be merged before the rewrite. */
  needsLoad: boolean;
  /**
   * A row for this key may be in the file (a committed flush wrote it, or it
   * was there before: `needsLoad`), so a rewrite deletes it first; a bucket
   * never written is only inserted.
   */
  stored: boolean;
  /** Changed since the last flush took it. */
  touched: boolean;
}

/** The stored row of a rollup (what `load` merges back). */
export interface StoredRollup {
  events: number;
  chunks: number;
  rows_in: number;
  rows_out: number;
  filtered: number;
  dead_lettered: number;
  errors: number;
  bytes: number;
  busy_ms: number;
  cpu_ms?: number | null;
  interval_ms: number;
  queue_depth_max: number | null;
  first_ms: number;
  last_ms: number;
  lat_count: number;
  lat_sum_ms: number;
  lat_max_ms: number;
  lat_idx: number[];
  lat_n: number[];
}

const B = "BIGINT";
const D = "DOUBLE";

/** The columns of a rollup table whose bucket-start column is `time`. */
export const rollupColumns = (time: string): readonly ColumnSpec[] => [
  { name: "run_id", kind: "sym" },
  { name: "pipeline", kind: "sym" },
  { name: "stage", kind: "sym" },
  { name: "stage_index", kind: "num", sql: "INTEGER" },
  { name: time, kind: "ts" },
  { name: "first_ts", kind: "ts" },
  { name: "last_ts", kind: "ts" },
  { name: "events", kind: "num", sql: B },
  { name: "chunks", kind: "num", sql: B },
  { name: "rows_in", kind: "num", sql: B },
  { name: "rows_out", kind: "num", sql: B },
  { name: "filtered", kind: "num", sql: B },
  { name: "dead_lettered", kind: "num", sql: B },
  { name: "errors", kind: "num", sql: B },
  { name: "bytes", kind: "num", sql: B },
  { name: "busy_ms", kind: "num", sql: D },
  { name: "interval_ms", kind: "num", sql: D },
  { name: "queue_depth_max", kind: "num", sql: D },
  { name: "lat_count", kind: "num", sql: B },
  { name: "lat_sum_ms", kind: "num", sql: D },
  { name: "lat_max_ms", kind: "num", sql: D },
  { name: "p50_ms", kind: "num", sql: D },
  { name: "p95_ms", kind: "num", sql: D },
  { name: "p99_ms", kind: "num", sql: D },
  { name: "lat", kind: "hist" },
  // Added after the first schema: new columns go last (ALTER TABLE ADD COLUMN appends).
  { name: "cpu_ms", kind: "num", sql: D },
];

/** An accumulator's values in `rollupColumns` order. */
export function rollupRow(a: RollupAcc): unknown[] {
  const h = a.hist;
  const data = h.toData();
  const [p50, p95, p99] = sparsePercentiles(data);
  return [
    a.runId,
    a.pipeline,
    a.stage,
    a.stageIndex,
    a.bucket,
    a.firstTs,
    a.lastTs,
    a.events,
    a.chunks,
    a.rowsIn,
    a.rowsOut,
    a.filtered,
    a.deadLettered,
    a.errors,
    a.bytes,
    a.busyMs,
    a.intervalMs,
    a.queueDepthMax,
    h.count,
    h.sumMs,
    h.maxMs,
    p50,
    p95,
    p99,
    data,
    a.cpuMs ?? Number.NaN,
  ];
}

/**
 * Accumulators as the column batch of `rollupColumns` (what
 * `ColumnBuffer.push(rollupRow(a))` then `toBatch` produce), written straight
 * into typed columns: a flush rewrites one row per touched bucket, about one
 * per five events at 1 event/s/stage, and the generic path (a value array, a
 * `toData` copy and a percentile pass per row) cost about 3 µs a row.
 */
export function rollupBatch(accs: readonly RollupAcc[], symbols: Map<string, number>): ColumnBatch {
  const n = accs.length;
  const ints = () => new Int32Array(n);
  const nums = () => new Float64Array(n);
  const [run, pipeline, stage] = [ints(), ints(), ints()];
  const f: Float64Array[] = Array.from({ length: 21 }, nums);
  const cpu = nums();
  const offsets = new Uint32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    accs[i].hist.compact();
    total += accs[i].hist.pairs.length >>> 1;
    offsets[i + 1] = total;
  }
  const idx = new Uint16Array(total);
  const cnt = new Float64Array(total);
  for (let i = 0, k = 0; i < n; i++) {
    const a = accs[i];
    const h = a.hist;
    run[i] = symbolCode(symbols, a.runId);
    pipeline[i] = symbolCode(symbols, a.pipeline);
    stage[i] = symbolCode(symbols, a.stage);
    f[0][i] = typeof a.stageIndex === "number" ? a.stageIndex : Number.NaN;
    f[1][i] = a.bucket;
    f[2][i] = a.firstTs;
    f[3][i] = a.lastTs;
    f[4][i] = a.events;
    f[5][i] = a.chunks;
    f[6][i] = a.rowsIn;
    f[7][i] = a.rowsOut;
    f[8][i] = a.filtered;
    f[9][i] = a.deadLettered;
    f[10][i] = a.errors;
    f[11][i] = a.bytes;
    f[12][i] = a.busyMs;
    f[13][i] = a.intervalMs;
    // A replayed event may carry `queueDepth: null` (NULL, as the generic path reads it).
    f[14][i] = typeof a.queueDepthMax === "number" ? a.queueDepthMax : Number.NaN;
    f[15][i] = h.count;
    f[16][i] = h.sumMs;
    f[17][i] = h.maxMs;
    // p50/p95/p99 as `sparsePercentiles` reads them, from the sorted pairs.
    const p = h.pairs;
    if (h.count > 0) {
      let out = 18;
      let seen = 0;
      let rank = Math.max(1, Math.ceil(0.5 * h.count));
      for (let j = 0; j < p.length && out < 21; j += 2) {
        seen += p[j + 1];
        while (out < 21 && seen >= rank) {
          f[out++][i] = Math.min(BUCKET_BOUNDS_MS[p[j]], h.maxMs);
          rank = Math.max(1, Math.ceil((out === 19 ? 0.95 : 0.99) * h.count));
        }
      }
      for (; out < 21; out++) f[out][i] = h.maxMs;
    } else f[18][i] = f[19][i] = f[20][i] = Number.NaN;
    cpu[i] = a.cpuMs ?? Number.NaN;
    for (let j = 0; j < p.length; j += 2, k++) {
      idx[k] = p[j];
      cnt[k] = p[j + 1];
    }
  }
  const d = (values: Float64Array): BatchColumnData => ({ type: "double", values });
  return {
    rows: n,
    columns: [
      { type: "integer", values: run },
      { type: "integer", values: pipeline },
      { type: "integer", values: stage },
      ...f.map(d),
      { type: "usmallint_list", offsets, values: idx },
      { type: "ubigint_list", offsets, values: cnt },
      d(cpu),
    ],
  };
}
