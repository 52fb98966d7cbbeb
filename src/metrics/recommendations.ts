/**
 * @module Recommendations derived from a run's figures. Each rule names the
 * setting to change, the direction (and a suggested value where the figures
 * give one) and quotes the evidence, so a reader can check the reasoning. A
 * pure function of the run report and the bottleneck analysis, so rules are
 * tested on figures and adaptive configuration can call it live.
 */
import type { BottleneckReport } from "./bottlenecks.ts";
import type { RunReport } from "./summary.ts";

export interface Recommendation {
  /** Stable rule id, e.g. `raise-workers`. */
  readonly id: string;
  readonly stage: string | null;
  /** What to do, in one sentence. */
  readonly action: string;
  /** The setting concerned, e.g. `workers`, `chunkSize`, `cache.ttl`. */
  readonly setting: string | null;
  readonly direction: "raise" | "lower" | "change";
  readonly current: number | null;
  readonly suggested: number | null;
  /** Why, quoting the figures. */
  readonly reason: string;
  readonly evidence: Readonly<Record<string, number | string | null>>;
}

export interface RecommendationOptions {
  /** CPU cores available to the run (default: this machine's). */
  readonly cores: number;
  /** A stage p99 at or above this is high (ms, default 250). */
  readonly highP99Ms?: number;
  /** RSS growth at or above this is "memory grows" (bytes/min, default 16 MiB). */
  readonly memoryGrowthBytesPerMin?: number;
  /** A cache hit rate below this is low (default 0.5). */
  readonly lowHitRate?: number;
  /** Event-loop delay at or above this blocks I/O (ms, default 100). */
  readonly eventLoopDelayMs?: number;
  /** Dead-letter share of input at or above this deserves a look (default 0.01). */
  readonly deadLetterRate?: number;
  /** A worker pool utilised below this share, with nothing queued, has workers to spare (default 0.3). */
  readonly lowUtilisation?: number;
  /** A stage busy at least this share of the run's wall time limits it (default 0.8). */
  readonly limitingBusyShare?: number;
  /**
   * A per-chunk latency target (ms; adaptive configuration sets it): the chunk
   * size is lowered when the slowest stage's p99 is over it, and raised when
   * under a quarter of it while memory does not grow. Unset: only the
   * high-p99-and-growing-memory rule applies.
   */
  readonly targetChunkMs?: number;
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const ms = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(x < 10 ? 2 : 0)} ms`);
const MiB = 1024 * 1024;

export function recommend(
  report: RunReport,
  bottlenecks: BottleneckReport,
  options: RecommendationOptions,
): Recommendation[] {
  const out: Recommendation[] = [];
  const cores = Math.max(1, options.cores);
  const cpu = report.resources?.cpuPercent ?? null;
  const idleCores = cpu === null ? null : cores - cpu / 100;
  const b = bottlenecks.bottleneck;

  // 1. A stage busy nearly all the time limits the run. What helps depends on
  //    what it does while busy (`bound.ts`): a pooled stage gets more workers
  //    while cores idle; one waiting on I/O gets more calls in flight (no cores
  //    needed); one running its own code on the main thread goes to parallelMap.
  if (b && b.kind !== "source" && b.busyShare >= (options.limitingBusyShare ?? 0.8)) {
    const pool = report.workers.find((w) => w.stage === b.stage);
    const fig = report.stages.find((s) => s.stage === b.stage);
    const bound = fig?.boundBy ?? null;
    const coresIdle = idleCores !== null && idleCores >= 1;
    if (pool) {
      const current = pool.workersMax;
      const suggested = Math.max(current + 1, Math.min(cores, Math.ceil(current * 1.5)));
      if (coresIdle && suggested > current) {
        out.push({
          id: "raise-workers",
          stage: b.stage,
          action: `Raise workers for ${b.stage} from ${current} to ${suggested}.`,
          setting: "workers",
          direction: "raise",
          current,
          suggested,
          reason:
            `${b.stage} was busy ${pct(b.busyShare)} of the run with its pool ${pct(pool.utilisation ?? 0)} utilised, ` +
            `while the process used ${((cpu ?? 0) / 100).toFixed(1)} of ${cores} cores.`,
          evidence: {
            busyShare: b.busyShare,
            utilisation: pool.utilisation,
            cpuPercent: cpu,
            cores,
            workers: current,
          },
        });
      }
    } else if (bound === "io" && fig) {
      const async = /mapAsync/.test(b.stage);
      out.push({
        id: "raise-concurrency",
        stage: b.stage,
        action: async
          ? `Raise the concurrency of ${b.stage} (mapAsync({ concurrency })): it waits on I/O, not on a core.`
          : `Run ${b.stage} as mapAsync with a concurrency above 1: it waits on I/O one call at a time.`,
        setting: "concurrency",
        direction: "raise",
        current: null,
        suggested: null,
        reason:
          `${b.stage} was busy ${pct(b.busyShare)} of the run, and ran its own code for ` +
          `${pct((fig.cpuMs ?? 0) / Math.max(fig.busyMs, 1e-9))} of that (${ms(fig.cpuMs ?? 0)} CPU, ${ms(fig.waitMs ?? 0)} waiting); ` +
          "parallelMap would only add workers that wait.",
        evidence: { busyShare: b.busyShare, cpuMs: fig.cpuMs, waitMs: fig.waitMs, boundBy: bound },
      });
    } else if (
      bound === "cpu" ? cores >= 2 && (idleCores === null || coresIdle) : bound === null && coresIdle
    ) {
      // Measured CPU-bound, or (journals without CPU time) busy while cores idle.
      const measured = bound === "cpu" && fig ? ` and ran its own code for ${ms(fig.cpuMs ?? 0)} of it` : "";
      out.push({
        id: "parallelise-stage",
        stage: b.stage,
        action: `Run ${b.stage} in parallelMap (worker threads): it is CPU-bound on one core.`,
        setting: "workers",
        direction: "raise",
        current: 1,
        suggested: Math.min(cores, 4),
        reason:
          `${b.stage} was busy ${pct(b.busyShare)} of the run on the main thread${measured}` +
          (cpu === null
            ? ` (${cores} cores).`
            : ` while the process used ${(cpu / 100).toFixed(1)} of ${cores} cores.`),
        evidence: {
          busyShare: b.busyShare,
          cpuPercent: cpu,
          cores,
          cpuMs: fig?.cpuMs ?? null,
          boundBy: bound,
        },
      });
    }
  }

  // 2. High tail latency while memory grows, or over the latency target: chunks too big.
  //    Far under the target with flat memory: chunks can grow (fewer per-chunk costs).
  const highP99 = options.highP99Ms ?? 250;
  const growth = options.memoryGrowthBytesPerMin ?? 16 * MiB;
  const target = options.targetChunkMs;
  const slope = report.resources?.rssSlopeBytesPerMin ?? null;
  const worst = [...report.stages]
    .filter((s) => s.p99Ms !== null)
    .sort((a, b) => (b.p99Ms ?? 0) - (a.p99Ms ?? 0))[0];
  const rowsPerChunk = worst && worst.chunks > 0 ? worst.rowsIn / worst.chunks : null;
  const growing = slope !== null && slope >= growth;
  if (worst?.p99Ms != null && worst.p99Ms >= highP99 && growing) {
    out.push({
      id: "lower-chunk-size",
      stage: worst.stage,
      action: "Lower the chunk size (or use adaptive chunking with a latency target).",
      setting: "chunkSize",
      direction: "lower",
      current: rowsPerChunk === null ? null : Math.round(rowsPerChunk),
      suggested: rowsPerChunk === null ? null : Math.max(1, Math.round(rowsPerChunk / 2)),
      reason:
        `${worst.stage} has a p99 chunk latency of ${worst.p99Ms.toFixed(0)} ms while RSS grows ` +
        `${(slope / MiB).toFixed(1)} MiB/min: large chunks hold memory and delay everything behind them.`,
      evidence: { p99Ms: worst.p99Ms, rssSlopeBytesPerMin: slope, rowsPerChunk },
    });
  } else if (target !== undefined && worst?.p99Ms != null && worst.p99Ms > target) {
    // To about 90% of the target at the measured time per row, at most a quarter at once.
    const factor = Math.max(0.25, Math.min(0.9, (0.9 * target) / worst.p99Ms));
    out.push({
      id: "lower-chunk-size",
      stage: worst.stage,
      action: `Lower the chunk size: ${worst.stage} takes longer per chunk than the ${target} ms target.`,
      setting: "chunkSize",
      direction: "lower",
      current: rowsPerChunk === null ? null : Math.round(rowsPerChunk),
      suggested: rowsPerChunk === null ? null : Math.max(1, Math.floor(rowsPerChunk * factor)),
      reason:
        `${worst.stage} has a p99 chunk latency of ${worst.p99Ms.toFixed(0)} ms, over the ${target} ms target` +
        `${rowsPerChunk === null ? "" : ` at ${Math.round(rowsPerChunk)} rows per chunk`}.`,
      evidence: { p99Ms: worst.p99Ms, targetMs: target, rowsPerChunk },
    });
  } else if (target !== undefined && worst?.p99Ms != null && worst.p99Ms < target / 4 && !growing) {
    out.push({
      id: "raise-chunk-size",
      stage: worst.stage,
      action: `Raise the chunk size: the slowest stage, ${worst.stage}, is far under the ${target} ms target.`,
      setting: "chunkSize",
      direction: "raise",
      current: rowsPerChunk === null ? null : Math.round(rowsPerChunk),
      suggested: rowsPerChunk === null ? null : Math.max(1, Math.round(rowsPerChunk * 2)),
      reason:
        `the slowest stage, ${worst.stage}, has a p99 chunk latency of ${worst.p99Ms.toFixed(1)} ms, under a quarter ` +
        `of the ${target} ms target, and RSS is not growing: bigger chunks spread per-chunk costs.`,
      evidence: { p99Ms: worst.p99Ms, targetMs: target, rowsPerChunk, rssSlopeBytesPerMin: slope },
    });
  }

  // 2b. A pool mostly idle with nothing queued: fewer workers do the same work.
  const low = options.lowUtilisation ?? 0.3;
  for (const pool of report.workers) {
    const u = pool.utilisation;
    if (u === null || u >= low || pool.workersMax <= 1 || (pool.queueDepthMax ?? 0) > 0) continue;
    // Enough workers to be about 60% utilised at the same load.
    const suggested = Math.max(1, Math.min(pool.workersMax - 1, Math.ceil((pool.workersMax * u) / 0.6)));
    out.push({
      id: "lower-workers",
      stage: pool.stage,
      action: `Lower workers for ${pool.stage} from ${pool.workersMax} to ${suggested}.`,
      setting: "workers",
      direction: "lower",
      current: pool.workersMax,
      suggested,
      reason: `${pool.stage}'s ${pool.workersMax} workers were ${pct(u)} utilised with nothing queued.`,
      evidence: { utilisation: u, workers: pool.workersMax, queueDepth: pool.queueDepthMax },
    });
  }

  // 3. Cache misses on keys that repeat: entries expire or are evicted before reuse.
  const lowHit = options.lowHitRate ?? 0.5;
  for (const c of report.caches) {
    if (c.hitRate === null || c.hitRate >= lowHit) continue;
    const distinct = c.entries ?? 0;
    const repeats = c.misses > Math.max(1, distinct) * 1.5 || c.evictions > 0;
    if (!repeats) continue;
    out.push({
      id: "raise-cache-ttl",
      stage: c.stage,
      action: `Raise the cache TTL (and size, if evictions are high) of ${c.stage}.`,
      setting: "cache.ttl",
      direction: "raise",
      current: null,
      suggested: null,
      reason:
        `${c.stage} hit only ${pct(c.hitRate)} of lookups, yet it missed ${c.misses} times for ${distinct} live entries ` +
        `and evicted ${c.evictions}: keys repeat but are gone by the time they come back.`,
      evidence: { hitRate: c.hitRate, misses: c.misses, entries: c.entries, evictions: c.evictions },
    });
  }

  // 4. Event loop blocked: synchronous work on the main thread.
  const loop = report.resources?.eventLoopDelayMsMax ?? null;
  if (loop !== null && loop >= (options.eventLoopDelayMs ?? 100)) {
    const busiest = bottlenecks.stages
      .filter((s) => s.utilisation === null)
      .sort((a, b) => b.busyShare - a.busyShare)[0];
    out.push({
      id: "unblock-event-loop",
      stage: busiest?.stage ?? null,
      action: `Move synchronous CPU work${busiest ? ` in ${busiest.stage}` : ""} to parallelMap, or lower the chunk size.`,
      setting: null,
      direction: "change",
      current: loop,
      suggested: null,
      reason: `The event loop was delayed up to ${loop.toFixed(0)} ms: timers, I/O and the HTTP API stall meanwhile.`,
      evidence: { eventLoopDelayMsMax: loop },
    });
  }

  // 5. Source-bound runs.
  if (b?.kind === "source") {
    out.push({
      id: "source-bound",
      stage: b.stage,
      action: "The source limits throughput: raise its read buffer and chunk size, or split the input.",
      setting: "chunkSize",
      direction: "raise",
      current: null,
      suggested: null,
      reason: bottlenecks.evidence[0] ?? "Most of the wall time was spent outside metered stages.",
      evidence: { unaccountedShare: bottlenecks.unaccountedShare },
    });
  }

  // 6. Many dead letters.
  const rowsIn = report.run.rowsIn ?? 0;
  const dead = report.deadLetters.total;
  if (rowsIn > 0 && dead / rowsIn >= (options.deadLetterRate ?? 0.01)) {
    const top = report.deadLetters.byReason[0];
    out.push({
      id: "inspect-dead-letters",
      stage: top?.stage ?? null,
      action: `Inspect the dead letter: ${pct(dead / rowsIn)} of input failed${top ? `, mostly "${top.reason}"` : ""}.`,
      setting: null,
      direction: "change",
      current: dead,
      suggested: null,
      reason: `${dead} of ${rowsIn} records were dead-lettered.`,
      evidence: { deadLettered: dead, rowsIn, topReason: top?.reason ?? null },
    });
  }

  // 7. Late records in a window stage: the out-of-order bound is shorter than the measured skew.
  for (const w of report.windows ?? []) {
    if (w.late === 0 || w.maxSkewMs === null) continue;
    const current = w.lagMsMin;
    const suggested = Math.ceil(w.maxSkewMs / 1000) * 1000;
    if (current !== null && suggested <= current) continue;
    out.push({
      id: "raise-out-of-order",
      stage: w.stage,
      action: `Raise watermark.outOfOrder of ${w.stage}${current === null ? "" : ` from ${ms(current)}`} to ${ms(suggested)} (or its lateness), or accept the late records in the dead letter.`,
      setting: "watermark.outOfOrder",
      direction: "raise",
      current,
      suggested,
      reason:
        `${w.late} records came after their window closed; records arrived up to ${ms(w.maxSkewMs)} behind the ` +
        `largest event time seen${current === null ? "" : `, more than the bound of ${ms(current)}`}. A larger bound delays every result by as much.`,
      evidence: { late: w.late, lateAccepted: w.lateAccepted, maxSkewMs: w.maxSkewMs, outOfOrderMs: current },
    });
  }
  return out;
}
