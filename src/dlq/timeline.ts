/**
 * @module Dead letters over time: the time range of a set of letters cut
 * into equal buckets, so each (stage, normalised reason) group of
 * `queue.ts` can count its letters per bucket (`series`). What
 * `GET /api/runs/{id}/dead-letters` serves and the dashboard's dead-letter
 * panel draws. Pure: no I/O, no clock.
 */

/** How many buckets the groups' series have unless asked otherwise, and the most allowed. */
export const DEFAULT_BUCKETS = 30;
export const MAX_BUCKETS = 200;

/** Equal buckets spanning a time range: bucket `i` is `[from + i × bucketMs, from + (i + 1) × bucketMs)`. */
export interface Timeline {
  /** Start of the first bucket: the earliest letter's time (ms since epoch). */
  readonly from: number;
  /** End of the last bucket (exclusive): `from + buckets × bucketMs`, after the latest letter's time. */
  readonly to: number;
  /** Width of a bucket (ms, at least 1). */
  readonly bucketMs: number;
  readonly buckets: number;
}

/**
 * The timeline of `times` (ms since epoch) in `buckets` equal buckets: from
 * the earliest to just after the latest, each bucket `ceil(span / buckets)`
 * ms wide (at least 1 ms, so a single instant is the first bucket). Times
 * that are not finite numbers are ignored; `undefined` when none is left.
 */
export function timelineOf(times: Iterable<number>, buckets: number = DEFAULT_BUCKETS): Timeline | undefined {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS)
    throw new RangeError(`buckets: ${buckets} is not a whole number from 1 to ${MAX_BUCKETS}`);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const t of times) {
    if (!Number.isFinite(t)) continue;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  if (min > max) return undefined;
  // Inclusive of the latest time: it falls in the last bucket, never at `to`.
  const span = Math.floor(max) - Math.floor(min) + 1;
  const bucketMs = Math.max(1, Math.ceil(span / buckets));
  const from = Math.floor(min);
  return { from, to: from + buckets * bucketMs, bucketMs, buckets };
}

/** The bucket `t` falls in, or -1 when it is outside the timeline or not a finite number. */
export function bucketOf(tl: Timeline, t: number): number {
  if (!Number.isFinite(t) || t < tl.from || t >= tl.to) return -1;
  return Math.min(tl.buckets - 1, Math.floor((t - tl.from) / tl.bucketMs));
}

/** Counts of `times` per bucket of `tl` (times outside it are not counted). */
export function seriesOf(tl: Timeline, times: Iterable<number>): number[] {
  const series = new Array<number>(tl.buckets).fill(0);
  for (const t of times) {
    const i = bucketOf(tl, t);
    if (i >= 0) series[i]++;
  }
  return series;
}
