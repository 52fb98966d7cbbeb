/**
 * @module Sparse latency histograms for sums kept in many buckets at once
 * (the store's rollups, the HTTP server's live series): percentiles read
 * straight from (bucket, count) pairs, and an accumulator that appends pairs
 * and compacts them when they grow or are read.
 */
import type { HistogramData } from "../../events/schema.ts";
import { BUCKET_BOUNDS_MS } from "../histogram.ts";

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
const NONE = new Float64Array(0);

/**
 * A histogram accumulated as appended (bucket, count) pairs and compacted to
 * sorted unique pairs when it grows or is read: open 5 s and 1 min buckets
 * are many (a live series keeps an hour of seconds), and a dense array each
 * would be most of the store's memory.
 *
 * The pairs live in a Float64Array, compacted before it grows: a catch-up
 * holds every bucket it touched until its flush (13,310 for 100,000 events
 * of the long-run mix), and as JS arrays their pairs were ~27 MB that each
 * young-generation GC copied (scavenges 292 ms of the catch-up, against 163
 * without rollups). A typed array's elements are not copied by a scavenge.
 */
export class SparseHist {
  /** Interleaved bucket index, count in `#buf[0, #len)`: sorted and unique after `compact`. */
  #buf: Float64Array = NONE;
  #len = 0;
  count = 0;
  sumMs = 0;
  maxMs = 0;
  /** Pairs appended since the last compaction. */
  #pending = 0;

  /**
   * The pairs (interleaved bucket index, count), a view valid until the next `add`, `compact` or
   * `trim`. Sorted and unique after `compact`.
   */
  get pairs(): Float64Array {
    return this.#buf.subarray(0, this.#len);
  }

  /** Adds a histogram's data (`LatencyAcc` of the shared progress fold; only ever added, never taken back). */
  merge(data: HistogramData): void {
    this.add(data.buckets, data.count, data.sumMs, data.maxMs);
  }

  add(buckets: ReadonlyArray<readonly [number, number]>, count: number, sumMs: number, maxMs: number): void {
    const n = buckets.length;
    if (n > 0) {
      if (this.#len + 2 * n > this.#buf.length) this.#room(2 * n);
      const p = this.#buf;
      let j = this.#len;
      for (let k = 0; k < n; k++) {
        const b = buckets[k];
        const i = b[0];
        // An index that is no bucket (only a forged journal has one) cannot be placed: dropped
        // (count, sum and max are the event's own).
        if ((i | 0) !== i || i < 0 || i >= SCRATCH.length) continue;
        p[j++] = i;
        p[j++] = b[1];
      }
      this.#pending += (j - this.#len) >> 1;
      this.#len = j;
    }
    this.count += count;
    this.sumMs += sumMs;
    if (maxMs > this.maxMs) this.maxMs = maxMs;
  }

  /**
   * Makes room for `extra` more values: compacts first, and grows (to twice what is needed) when
   * that is not enough or leaves the buffer over three quarters full, so that a histogram whose
   * compacted pairs nearly fill it does not compact on every add. (Growing whenever less than
   * half was free made the rollups of a catch-up ~15% slower: more buffers allocated.)
   */
  #room(extra: number): void {
    this.compact();
    const need = this.#len + extra;
    if (need <= this.#buf.length && 4 * this.#len <= 3 * this.#buf.length) return;
    const b = new Float64Array(Math.max(32, 2 * need));
    b.set(this.#buf.subarray(0, this.#len));
    this.#buf = b;
  }

  /** Compacts and gives back the unused room (a bucket that is complete and kept a while). */
  trim(): void {
    this.compact();
    if (this.#buf.length > this.#len) this.#buf = this.#len > 0 ? this.#buf.slice(0, this.#len) : NONE;
  }

  /** Merges duplicates and sorts by bucket (in place). */
  compact(): void {
    if (this.#pending === 0) return;
    const p = this.#buf;
    const len = this.#len;
    let lo = SCRATCH.length;
    let hi = -1;
    for (let k = 0; k < len; k += 2) {
      const i = p[k];
      SCRATCH[i] += p[k + 1];
      if (i < lo) lo = i;
      if (i > hi) hi = i;
    }
    let j = 0;
    for (let i = lo; i <= hi; i++) {
      if (SCRATCH[i] !== 0) {
        p[j++] = i;
        p[j++] = SCRATCH[i];
        SCRATCH[i] = 0;
      }
    }
    this.#len = j;
    this.#pending = 0;
  }

  copy(): SparseHist {
    this.compact();
    const c = new SparseHist();
    c.#buf = this.#len > 0 ? this.#buf.slice(0, this.#len) : NONE;
    c.#len = this.#len;
    c.count = this.count;
    c.sumMs = this.sumMs;
    c.maxMs = this.maxMs;
    return c;
  }

  toData(): HistogramData {
    this.compact();
    const buckets: Array<[number, number]> = [];
    const p = this.#buf;
    for (let k = 0; k < this.#len; k += 2) buckets.push([p[k], p[k + 1]]);
    return { count: this.count, sumMs: this.sumMs, maxMs: this.maxMs, buckets };
  }
}
