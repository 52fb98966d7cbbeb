/**
 * @module Rollups of `stage.progress` per run, stage and fixed time bucket
 * (5 s, 1 min, and the whole run), kept as data arrives. Each open bucket is an accumulator in
 * memory (sums and a merged sparse histogram, whose p50/p95/p99 are stored with
 * it); a flush
 * rewrites the buckets it touched, so a query over any number of events reads
 * one row per stage and bucket with percentiles already computed, and wider
 * buckets merge a few stored rows instead of many raw events.
 *
 * Accumulators are dropped once their bucket is two behind the newest one of
 * their stage (or the run ended); a late event for a dropped bucket, or the
 * first event of a run that was already in the file (a resume), loads the
 * stored row and merges into it before the rewrite, so nothing is counted
 * twice or lost.
 */

import type { BatchColumnData, ColumnBatch } from "../../duckdb/client.ts";
import type { EventOf, HistogramData } from "../../events/schema.ts";
import { BUCKET_BOUNDS_MS } from "../histogram.ts";
import { type ColumnSpec, symbolCode } from "./columns.ts";

/**
 * The rollups kept: table, bucket width, and the name of its bucket-start
 * column. Width 0 is one bucket per run and stage (start 0): whole-run totals.
 */
export const ROLLUPS = [
  { table: "stage_rollup_5s", widthMs: 5_000, time: "bucket" },
  { table: "stage_rollup_1m", widthMs: 60_000, time: "minute" },
  { table: "stage_rollup_run", widthMs: 0, time: "bucket" },
] as const;

/**
 * p50/p95/p99 of one sparse histogram, as `Histogram.percentile` reads them
 * (NaN when empty), without building a dense one: what each raw
 * `stage.progress` row stores so single-event buckets need no merge.
 */
export function sparsePercentiles(h: HistogramData): [number, number, number] {
  if (!(h.count > 0)) return [Number.NaN, Number.NaN, Number.NaN];
  let buckets = h.buckets;
  for (let k = 1; k < buckets.length; k++) {
    if (buckets[k][0] < buckets[k - 1][0]) {
      buckets = [...buckets].sort((a, b) => a[0] - b[0]);
      break;
    }
  }
  // Ranks of p50, p95, p99 (no array per call: this runs once per stored event).
  const r0 = Math.max(1, Math.ceil(0.5 * h.count));
  const r1 = Math.max(1, Math.ceil(0.95 * h.count));
  const r2 = Math.max(1, Math.ceil(0.99 * h.count));
  const out: [number, number, number] = [h.maxMs, h.maxMs, h.maxMs];
  let seen = 0;
  let r = 0;
  for (let k = 0; k < buckets.length && r < 3; k++) {
    seen += buckets[k][1];
    while (r < 3 && seen >= (r === 0 ? r0 : r === 1 ? r1 : r2)) {
      out[r++] = Math.min(BUCKET_BOUNDS_MS[buckets[k][0]], h.maxMs);
    }
  }
  return out;
}

/** Scratch dense counts for compaction, always left zeroed. */
const SCRATCH = new Float64Array(BUCKET_BOUNDS_MS.length);

/**
 * A histogram accumulated as appended (bucket, count) pairs and compacted to
 * sorted unique pairs when it grows or is read: open 5 s and 1 min buckets
 * are many, and a dense array each would be most of the store's garbage.
 */
export class SparseHist {
  /** Interleaved bucket index, count: sorted and unique after `compact`. */
  pairs: number[] = [];
  count = 0;
  sumMs = 0;
  maxMs = 0;
  /**
   * Bucket lists added since the last compaction, kept by reference (events
   * are immutable): an add is one push instead of copying every pair, which
   * measured about half of the three rollups' cost per `stage.progress`.
   */
  #parts: Array<ReadonlyArray<readonly [number, number]>> = [];
  #partPairs = 0;

  add(buckets: ReadonlyArray<readonly [number, number]>, count: number, sumMs: number, maxMs: number): void {
    if (buckets.length > 0) {
      this.#parts.push(buckets);
      this.#partPairs += buckets.length;
    }
    this.count += count;
    this.sumMs += sumMs;
    if (maxMs > this.maxMs) this.maxMs = maxMs;
    if (this.#partPairs > 256) this.compact();
  }

  /** Merges duplicates and sorts by bucket. */
  compact(): void {
    const parts = this.#parts;
    if (parts.length === 0) return;
    const p = this.pairs;
    let lo = SCRATCH.length;
    let hi = -1;
    for (let k = 0; k < p.length; k += 2) {
      const i = p[k];
      SCRATCH[i] += p[k + 1];
      if (i < lo) lo = i;
      if (i > hi) hi = i;
    }
    for (let j = 0; j < parts.length; j++) {
      const b = parts[j];
      for (let k = 0; k < b.length; k++) {
        const i = b[k][0];
        SCRATCH[i] += b[k][1];
        if (i < lo) lo = i;
        if (i > hi) hi = i;
      }
    }
    const out: number[] = [];
    for (let i = lo; i <= hi; i++) {
      if (SCRATCH[i] !== 0) {
        out.push(i, SCRATCH[i]);
        SCRATCH[i] = 0;
      }
    }
    this.pairs = out;
    this.#parts = [];
    this.#partPairs = 0;
  }

  copy(): SparseHist {
    this.compact();
    const c = new SparseHist();
    c.pairs = this.pairs.slice();
    c.count = this.count;
    c.sumMs = this.sumMs;
    c.maxMs = this.maxMs;
    return c;
  }

  toData(): HistogramData {
    this.compact();
    const buckets: Array<[number, number]> = [];
    for (let k = 0; k < this.pairs.length; k += 2) buckets.push([this.pairs[k], this.pairs[k + 1]]);
    return { count: this.count, sumMs: this.sumMs, maxMs: this.maxMs, buckets };
  }
}

export interface RollupAcc {
  readonly runId: string;
  readonly pipeline: string;
  readonly stage: string;
  stageIndex: number;
  /** Bucket start, ms since epoch. */
  readonly bucket: number;
  events: number;
  chunks: number;
  rowsIn: number;
  rowsOut: number;
  filtered: number;
  deadLettered: number;
  errors: number;
  bytes: number;
  busyMs: number;
  intervalMs: number;
  queueDepthMax: number;
  firstTs: number;
  lastTs: number;
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
    ],
  };
}

/** One run's stage in one rollup: its open buckets and what was dropped. */
interface StageState {
  /** Open accumulators by bucket start. */
  readonly accs: Map<number, RollupAcc>;
  /** The accumulator this stage wrote last: consecutive events of a stage share a bucket. */
  recent: RollupAcc | undefined;
  /** Newest bucket seen. */
  newest: number;
  /** Highest bucket dropped from memory (a later event there must load the stored row). */
  dropped: number;
}

/**
 * Open rollup accumulators of one bucket width and which of them changed
 * since the last flush. State is kept per run and stage, buckets keyed by
 * their start (a number): an earlier version keyed every bucket by a string
 * of run, stage and bucket, and building those strings (the bucket's digits
 * included) was most of the cost of a new bucket.
 */
export class StageRollup {
  constructor(readonly widthMs: number) {}

  readonly #runs = new Map<string, Map<string, StageState>>();
  /** Runs with open accumulators: what `evict` walks (a state stays for every run seen, as its `dropped` must). */
  readonly #open = new Set<string>();
  #size = 0;
  #touched: RollupAcc[] = [];
  readonly #endedRuns = new Set<string>();

  /**
   * Adds one `stage.progress`. `storedUpTo` is the timestamp of the newest
   * event of this run already in the file before this process opened it (a
   * resumed run), or -Infinity.
   */
  add(e: EventOf<"stage.progress">, storedUpTo: number): void {
    const bucket = this.widthMs > 0 ? Math.floor(e.ts / this.widthMs) * this.widthMs : 0;
    let stages = this.#runs.get(e.runId);
    if (!stages) {
      stages = new Map();
      this.#runs.set(e.runId, stages);
    }
    let st = stages.get(e.stage);
    if (!st) {
      st = {
        accs: new Map(),
        recent: undefined,
        newest: Number.NEGATIVE_INFINITY,
        dropped: Number.NEGATIVE_INFINITY,
      };
      stages.set(e.stage, st);
    }
    let a = st.recent;
    if (a === undefined || a.bucket !== bucket) {
      a = st.accs.get(bucket) ?? this.#create(st, e, bucket, storedUpTo);
      st.recent = a;
    }
    this.#accumulate(a, e);
  }

  #create(st: StageState, e: EventOf<"stage.progress">, bucket: number, storedUpTo: number): RollupAcc {
    const needsLoad =
      bucket <= st.dropped ||
      (this.widthMs > 0
        ? bucket <= Math.floor(storedUpTo / this.widthMs) * this.widthMs
        : storedUpTo > Number.NEGATIVE_INFINITY);
    const a: RollupAcc = {
      runId: e.runId,
      pipeline: e.pipeline,
      stage: e.stage,
      stageIndex: e.index,
      bucket,
      events: 0,
      chunks: 0,
      rowsIn: 0,
      rowsOut: 0,
      filtered: 0,
      deadLettered: 0,
      errors: 0,
      bytes: 0,
      busyMs: 0,
      intervalMs: 0,
      queueDepthMax: Number.NaN,
      firstTs: e.ts,
      lastTs: e.ts,
      hist: new SparseHist(),
      needsLoad,
      stored: needsLoad,
      touched: false,
    };
    st.accs.set(bucket, a);
    this.#size++;
    this.#open.add(e.runId);
    if (bucket > st.newest) st.newest = bucket;
    return a;
  }

  #accumulate(a: RollupAcc, e: EventOf<"stage.progress">): void {
    a.events++;
    a.chunks += e.chunks;
    a.rowsIn += e.rowsIn;
    a.rowsOut += e.rowsOut;
    a.filtered += e.filtered;
    a.deadLettered += e.deadLettered;
    a.errors += e.errors;
    a.bytes += e.bytes;
    a.busyMs += e.busyMs;
    a.intervalMs += e.intervalMs;
    if (e.queueDepth !== undefined && !(e.queueDepth <= a.queueDepthMax)) a.queueDepthMax = e.queueDepth;
    if (e.ts < a.firstTs) a.firstTs = e.ts;
    if (e.ts > a.lastTs) a.lastTs = e.ts;
    const lat = e.latency;
    a.hist.add(lat.buckets, lat.count, lat.sumMs, lat.maxMs);
    if (!a.touched) {
      a.touched = true;
      this.#touched.push(a);
    }
  }

  /** The run ended: its accumulators can go after their next write. */
  ended(runId: string): void {
    this.#endedRuns.add(runId);
  }

  /** Accumulators changed since the last call; the caller writes them all. */
  takeTouched(): RollupAcc[] {
    const out = this.#touched;
    this.#touched = [];
    for (const a of out) a.touched = false;
    return out;
  }

  /** Puts accumulators back as changed (their write failed). */
  retouch(accs: readonly RollupAcc[]): void {
    for (const a of accs) {
      if (!a.touched) {
        a.touched = true;
        this.#touched.push(a);
      }
    }
  }

  /** A copy of an accumulator (its histogram too), to write while the original keeps counting. */
  static copy(a: RollupAcc): RollupAcc {
    return { ...a, hist: a.hist.copy() };
  }

  /** Merges a stored row into an accumulator (before it is rewritten). */
  static merge(a: RollupAcc, s: StoredRollup): void {
    a.events += s.events;
    a.chunks += s.chunks;
    a.rowsIn += s.rows_in;
    a.rowsOut += s.rows_out;
    a.filtered += s.filtered;
    a.deadLettered += s.dead_lettered;
    a.errors += s.errors;
    a.bytes += s.bytes;
    a.busyMs += s.busy_ms;
    a.intervalMs += s.interval_ms;
    if (s.queue_depth_max !== null && !(s.queue_depth_max <= a.queueDepthMax))
      a.queueDepthMax = s.queue_depth_max;
    if (s.first_ms < a.firstTs) a.firstTs = s.first_ms;
    if (s.last_ms > a.lastTs) a.lastTs = s.last_ms;
    a.hist.add(
      s.lat_idx.map((i, k) => [i, s.lat_n[k]] as [number, number]),
      s.lat_count,
      s.lat_sum_ms,
      s.lat_max_ms,
    );
    a.needsLoad = false;
  }

  /** Drops written accumulators that can no longer change (bounded memory). */
  evict(): void {
    for (const runId of this.#open) {
      const stages = this.#runs.get(runId);
      const ended = this.#endedRuns.has(runId);
      let open = false;
      // A stage's state stays after its buckets go: `dropped` makes a late event load the stored row.
      for (const st of stages?.values() ?? []) {
        for (const [bucket, a] of st.accs) {
          if (!a.touched && (ended || bucket < st.newest - this.widthMs)) {
            st.accs.delete(bucket);
            this.#size--;
            if (st.recent === a) st.recent = undefined;
            if (bucket > st.dropped) st.dropped = bucket;
          } else open = true;
        }
      }
      if (!open) this.#open.delete(runId);
    }
    // An ended run is forgotten once none of its buckets is open (or it never had one).
    for (const runId of this.#endedRuns) if (!this.#open.has(runId)) this.#endedRuns.delete(runId);
  }

  get size(): number {
    return this.#size;
  }
}
