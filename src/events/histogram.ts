/**
 * @module A fixed-bucket latency histogram, counted in place on the hot path
 * (one array increment per observation) and flushed as sparse buckets in
 * `stage.progress` events. Fixed bounds make histograms from any interval,
 * stage or run mergeable by addition — in DuckDB, in Prometheus exposition
 * and in the alert rules — with a bounded relative error (buckets grow by
 * ×1.25, so a percentile read from them is within 12.5% of the true value).
 */
import type { HistogramData } from "./schema.ts";

const GROWTH = 1.25;
const MIN_MS = 0.001;
/** Upper bounds in ms: 1 µs … ~ 2.4 h. */
export const BUCKET_BOUNDS_MS: readonly number[] = (() => {
  const out: number[] = [];
  for (let b = MIN_MS; b < 1e7; b *= GROWTH) out.push(Number(b.toPrecision(6)));
  return out;
})();
const LOG_GROWTH = Math.log(GROWTH);
const N = BUCKET_BOUNDS_MS.length;

/** Index of the bucket whose upper bound is ≥ ms. */
export function bucketIndex(ms: number): number {
  if (ms <= MIN_MS) return 0;
  const i = Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH - 1e-9);
  return i >= N ? N - 1 : i;
}

export class Histogram {
  counts = new Float64Array(N);
  count = 0;
  sumMs = 0;
  maxMs = 0;

  record(ms: number): void {
    this.counts[bucketIndex(ms)]++;
    this.count++;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** Adds another histogram's data (sign -1 takes it back; the max is then the caller's to recompute). */
  merge(data: HistogramData, sign: 1 | -1 = 1): void {
    for (const [i, c] of data.buckets) this.counts[i] += sign * c;
    this.count += sign * data.count;
    this.sumMs += sign * data.sumMs;
    if (sign > 0 && data.maxMs > this.maxMs) this.maxMs = data.maxMs;
  }

  /** Percentile (0..100) as the upper bound of the bucket holding it, capped by the max seen. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < N; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(BUCKET_BOUNDS_MS[i], this.maxMs);
    }
    return this.maxMs;
  }

  toData(): HistogramData {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < N; i++) if (this.counts[i] > 0) buckets.push([i, this.counts[i]]);
    return { count: this.count, sumMs: this.sumMs, maxMs: this.maxMs, buckets };
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumMs = 0;
    this.maxMs = 0;
  }
}
