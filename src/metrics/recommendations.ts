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
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
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

  // 1. A CPU-bound stage busy nearly all the time while cores idle.
  if (b && b.kind !== "source" && b.busyShare >= 0.8 && idleCores !== null && idleCores >= 1) {
    const pool = report.workers.find((w) => w.stage === b.stage);
    if (pool) {
      const current = pool.workersMax;
      const suggested = Math.max(current + 1, Math.min(cores, Math.ceil(current * 1.5)));
      if (suggested > current) {
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
    } else {
      out.push({
        id: "parallelise-stage",
        stage: b.stage,
        action: `Run ${b.stage} in parallelMap (worker threads): it is CPU-bound on one core.`,
        setting: "workers",
        direction: "raise",
        current: 1,
        suggested: Math.min(cores, 4),
        reason:
          `${b.stage} was busy ${pct(b.busyShare)} of the run on the main thread while the process used ` +
          `${((cpu ?? 0) / 100).toFixed(1)} of ${cores} cores.`,
        evidence: { busyShare: b.busyShare, cpuPercent: cpu, cores },
      });
    }
  }

  // 2. High tail latency while memory grows: chunks too big.
  const highP99 = options.highP99Ms ?? 250;
  const growth = options.memoryGrowthBytesPerMin ?? 16 * MiB;
  const slope = report.resources?.rssSlopeBytesPerMin ?? null;
  const worst = [...report.stages]
    .filter((s) => s.p99Ms !== null)
    .sort((a, b) => (b.p99Ms ?? 0) - (a.p99Ms ?? 0))[0];
  if (worst?.p99Ms != null && worst.p99Ms >= highP99 && slope !== null && slope >= growth) {
    const rowsPerChunk = worst.chunks > 0 ? worst.rowsIn / worst.chunks : null;
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
  return out;
}
