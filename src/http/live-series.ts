/**
 * @module Per-stage series of the runs this server saw on the bus, bucketed
 * as `stage.progress` events arrive, so `/api/metrics` answers a live run
 * without a store query (and, under `sluice run --serve`, without a call to
 * the pipeline's thread). The figures are the store's: the same sums per
 * bucket and the same formulas (`figure` in `store-queries.ts`), so a live
 * answer equals the store's answer for the same events.
 *
 * Memory is bounded: two tiers per run and stage (1 s buckets for the last
 * `secondBuckets`, 1 min buckets for the last `minuteBuckets`) and at most
 * `maxRuns` runs. A query the tiers no longer cover (older than what they
 * hold, a run resumed from an earlier process, a run not seen here, no run
 * named) is `undefined`: the caller asks the store.
 */
import { foldProgress, mergeSums, type StageSums, withEmptySums } from "../events/internal/progress-fold.ts";
import type { EventOf, SluiceEvent } from "../events/schema.ts";
import { Histogram } from "../metrics/histogram.ts";
import { SparseHist } from "../metrics/internal/sparse-hist.ts";
import { type BucketSums, isPercentile, seriesFigure } from "./internal/series-figure.ts";
import type { SeriesMetric, SeriesPoint, SeriesQuery } from "./types.ts";

/** One bucket's sums: the shared progress fold's (the columns the store sums) and its histogram. */
interface Acc extends StageSums {
  readonly start: number;
  hist: SparseHist;
}

interface Tier {
  readonly widthMs: number;
  readonly max: number;
  /** Per stage, buckets in ascending start order. */
  readonly stages: Map<string, Acc[]>;
  /** Buckets before this time are not (or no longer) held. */
  coveredFrom: number;
}

interface RunSeries {
  readonly pipeline: string;
  readonly tiers: readonly [Tier, Tier];
  /** Bumped on every `stage.progress` of the run: answers cached at an older version are stale. */
  version: number;
}

export interface LiveSeriesOptions {
  /** 1 s buckets kept per run and stage (default 3600: the dashboard's hour; up to a quarter more between trims). */
  readonly secondBuckets?: number;
  /** 1 min buckets kept per run and stage (default 1440: a day). */
  readonly minuteBuckets?: number;
  /** Runs kept, oldest dropped first (default 4; `sluice run --serve` follows one). */
  readonly maxRuns?: number;
}

const emptyAcc = (start: number): Acc => withEmptySums({ start, hist: new SparseHist() });

function addAcc(into: Acc, a: Acc, hist: boolean): void {
  mergeSums(into, a);
  if (hist) into.hist.merge(a.hist.toData());
  else {
    into.hist.count += a.hist.count;
    into.hist.sumMs += a.hist.sumMs;
    if (a.hist.maxMs > into.hist.maxMs) into.hist.maxMs = a.hist.maxMs;
  }
}

const scratch = new Histogram();

/** One figure from a bucket's sums (the formulas in `internal/series-figure.ts`, as the store's answers). */
function figure(metric: SeriesMetric, a: Acc): number | null {
  const h = a.hist;
  const sums: BucketSums = {
    ...a,
    queueDepth: Number.isNaN(a.queueDepthMax) ? null : a.queueDepthMax,
    latCount: h.count,
    latSumMs: h.sumMs,
    latMaxMs: h.maxMs,
  };
  return seriesFigure(metric, sums, (p) => {
    h.compact();
    const pairs = h.pairs;
    if (pairs.length === 0) return null;
    // As the store does: the bucket's histograms merged, the percentile read from the sum.
    scratch.reset();
    for (let k = 0; k < pairs.length; k += 2) scratch.counts[pairs[k]] += pairs[k + 1];
    scratch.count = h.count;
    scratch.maxMs = h.maxMs;
    return scratch.percentile(p);
  });
}

export class LiveSeries {
  readonly #runs = new Map<string, RunSeries>();
  readonly #secondBuckets: number;
  readonly #minuteBuckets: number;
  readonly #maxRuns: number;

  constructor(options: LiveSeriesOptions = {}) {
    this.#secondBuckets = options.secondBuckets ?? 3600;
    this.#minuteBuckets = options.minuteBuckets ?? 1440;
    this.#maxRuns = options.maxRuns ?? 4;
  }

  apply(e: SluiceEvent): void {
    if (e.kind === "run.started") {
      // Seen from its start: nothing of this run precedes what arrives here, unless
      // it resumes an earlier process's run, whose events only the store has.
      this.#run(e.runId, e.pipeline, e.resumedFrom === undefined ? Number.NEGATIVE_INFINITY : e.ts);
    } else if (e.kind === "stage.progress") {
      const r = this.#runs.get(e.runId) ?? this.#run(e.runId, e.pipeline, e.ts);
      r.version++;
      for (const tier of r.tiers) this.#add(tier, e);
    }
  }

  /** Changes whenever the run's series may have; undefined for a run not held here. */
  version(runId: string): number | undefined {
    return this.#runs.get(runId)?.version;
  }

  /**
   * The store's `series(q)` answer from what the bus delivered, or undefined
   * when the held buckets do not cover the query.
   */
  answer(q: SeriesQuery): SeriesPoint[] | undefined {
    if (q.run === undefined) return undefined;
    const r = this.#runs.get(q.run);
    if (!r) return undefined;
    const bucketMs = q.bucketS * 1000;
    const tier = r.tiers[q.bucketS % 60 === 0 ? 1 : 0];
    if (bucketMs % tier.widthMs !== 0 || q.from % bucketMs !== 0 || q.to % bucketMs !== 0) return undefined;
    // A run belongs to one pipeline: another pipeline's filter matches nothing, as in the store.
    if (q.pipeline !== undefined && q.pipeline !== r.pipeline) return [];
    if (q.from < tier.coveredFrom) return undefined;
    const hist = isPercentile(q.metric);
    const points: SeriesPoint[] = [];
    for (const [stage, accs] of tier.stages) {
      if (q.stage !== undefined && q.stage !== stage) continue;
      let k = lowerBound(accs, q.from);
      while (k < accs.length && accs[k].start < q.to) {
        const t = Math.floor(accs[k].start / bucketMs) * bucketMs;
        const first = accs[k++];
        let sum = first;
        if (k < accs.length && accs[k].start < t + bucketMs && accs[k].start < q.to) {
          // Several held buckets make this one: add them up.
          sum = emptyAcc(t);
          addAcc(sum, first, hist);
          for (; k < accs.length && accs[k].start < t + bucketMs && accs[k].start < q.to; k++)
            addAcc(sum, accs[k], hist);
        }
        points.push({ run: q.run, stage, t, value: figure(q.metric, sum) });
      }
    }
    points.sort((a, b) => a.t - b.t || (a.stage < b.stage ? -1 : a.stage > b.stage ? 1 : 0));
    return points.length > q.limit ? points.slice(0, q.limit) : points;
  }

  #run(runId: string, pipeline: string, coveredFrom: number): RunSeries {
    const existing = this.#runs.get(runId);
    if (existing) {
      // A second start of a run already held (resumed in this process): keep what is held.
      return existing;
    }
    const tier = (widthMs: number, max: number): Tier => ({
      widthMs,
      max,
      stages: new Map(),
      coveredFrom: Number.isFinite(coveredFrom) ? Math.ceil(coveredFrom / widthMs) * widthMs : coveredFrom,
    });
    const r: RunSeries = {
      pipeline,
      tiers: [tier(1000, this.#secondBuckets), tier(60_000, this.#minuteBuckets)],
      version: 0,
    };
    this.#runs.set(runId, r);
    if (this.#runs.size > this.#maxRuns) this.#runs.delete(this.#runs.keys().next().value as string);
    return r;
  }

  #add(tier: Tier, e: EventOf<"stage.progress">): void {
    const start = Math.floor(e.ts / tier.widthMs) * tier.widthMs;
    if (start < tier.coveredFrom) return; // Older than what the tier holds.
    let accs = tier.stages.get(e.stage);
    if (!accs) {
      accs = [];
      tier.stages.set(e.stage, accs);
    }
    // Events come in time order per stage; an older one finds its bucket by search.
    let a = accs.at(-1);
    if (!a || a.start !== start) {
      const k = a && a.start > start ? lowerBound(accs, start) : accs.length;
      a = accs[k];
      if (!a || a.start !== start) {
        // The previous bucket is most likely complete: merge its histogram's repeated indexes and
        // give back its spare room (an hour of seconds is kept).
        accs[k - 1]?.hist.trim();
        a = emptyAcc(start);
        accs.splice(k, 0, a);
      }
    }
    foldProgress(a, e, a.hist);
    // Drop the oldest in batches (a quarter of the cap at a time) so appends stay cheap.
    if (accs.length > tier.max + (tier.max >> 2)) {
      const dropped = accs.splice(0, accs.length - tier.max);
      tier.coveredFrom = Math.max(tier.coveredFrom, dropped[dropped.length - 1].start + tier.widthMs);
    }
  }
}

/** Index of the first bucket starting at or after `t`. */
function lowerBound(accs: readonly Acc[], t: number): number {
  let lo = 0;
  let hi = accs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (accs[mid].start < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
