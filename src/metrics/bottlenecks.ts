/**
 * @module Which stage limits a run's throughput, with the figures that say so.
 * Stages in a fused chain run one after another on one thread, so the one
 * that is busy for most of the run's wall time is the one the others wait on.
 * For pooled stages the pool's utilisation and queue depth are the evidence
 * instead. The source's read time is not metered per chunk, so when no stage
 * is busy most of the time, the unaccounted time points at the source (or at
 * I/O between stages). A pure function of a `RunReport`, so it can be tested
 * on figures as well as on a real run.
 */
import type { RunReport, StageFigures } from "./summary.ts";

export interface StageLoad {
  readonly stage: string;
  readonly index: number;
  readonly busyMs: number;
  /** Busy time over the run's wall time (0..1, more for a pool). */
  readonly busyShare: number;
  /** This stage's part of all stages' busy time (0..1). */
  readonly shareOfBusy: number;
  readonly rowsPerS: number | null;
  readonly p99Ms: number | null;
  readonly queueDepth: number | null;
  readonly utilisation: number | null;
}

export interface Bottleneck {
  readonly stage: string;
  readonly index: number | null;
  /** `busiest`: busy most of the time; `backlog`: a pool saturated with work queued; `source`: unaccounted time. */
  readonly kind: "busiest" | "backlog" | "source";
  readonly busyShare: number;
}

export interface BottleneckReport {
  readonly runId: string;
  readonly wallMs: number;
  readonly bottleneck: Bottleneck | null;
  readonly stages: readonly StageLoad[];
  /** Time not spent in any metered stage, as a share of wall time. */
  readonly unaccountedShare: number;
  /** Sentences quoting the figures behind the verdict. */
  readonly evidence: readonly string[];
}

export interface BottleneckOptions {
  /** A stage busy at least this share of wall time limits the run (default 0.5). */
  readonly busyThreshold?: number;
  /** A pool at least this utilised with work queued is saturated (default 0.9). */
  readonly saturation?: number;
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const ms = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(x < 10 ? 2 : 0)} ms`);

export function findBottlenecks(report: RunReport, options: BottleneckOptions = {}): BottleneckReport {
  const threshold = options.busyThreshold ?? 0.5;
  const saturation = options.saturation ?? 0.9;
  const stages = report.stages;
  const wallMs = wallTime(report);
  const totalBusy = stages.reduce((a, s) => a + s.busyMs, 0);
  const pools = new Map(report.workers.map((w) => [w.stage, w]));
  const loads: StageLoad[] = stages.map((s: StageFigures) => ({
    stage: s.stage,
    index: s.index,
    busyMs: s.busyMs,
    busyShare: wallMs > 0 ? s.busyMs / wallMs : 0,
    shareOfBusy: totalBusy > 0 ? s.busyMs / totalBusy : 0,
    rowsPerS: s.rowsPerS,
    p99Ms: s.p99Ms,
    queueDepth: s.queueDepth ?? pools.get(s.stage)?.queueDepthMax ?? null,
    utilisation: pools.get(s.stage)?.utilisation ?? null,
  }));
  const sorted = [...loads].sort((a, b) => b.busyShare - a.busyShare);
  const unaccountedShare = wallMs > 0 ? Math.max(0, 1 - Math.min(1, totalBusy / wallMs)) : 0;
  const evidence: string[] = [];
  let bottleneck: Bottleneck | null = null;

  const saturated = loads
    .filter((l) => l.utilisation !== null && l.utilisation >= saturation && (l.queueDepth ?? 0) > 0)
    .sort((a, b) => (b.queueDepth ?? 0) - (a.queueDepth ?? 0));
  const top = sorted[0];
  if (top && top.busyShare >= threshold) {
    bottleneck = { stage: top.stage, index: top.index, kind: "busiest", busyShare: top.busyShare };
    evidence.push(
      `${top.stage} was busy ${pct(top.busyShare)} of the run's wall time (${ms(top.busyMs)} of ${ms(wallMs)}) ` +
        `and accounts for ${pct(top.shareOfBusy)} of all stages' busy time.`,
    );
    const next = sorted[1];
    if (next) evidence.push(`The next busiest stage, ${next.stage}, was busy ${pct(next.busyShare)}.`);
    if (top.utilisation !== null) evidence.push(`Its worker pool was ${pct(top.utilisation)} utilised.`);
  } else if (saturated[0]) {
    const s = saturated[0];
    bottleneck = { stage: s.stage, index: s.index, kind: "backlog", busyShare: s.busyShare };
    evidence.push(
      `${s.stage}'s workers were ${pct(s.utilisation ?? 0)} utilised with up to ${s.queueDepth} tasks queued: ` +
        "upstream stages wait for it.",
    );
  } else if (stages.length > 0 && unaccountedShare >= threshold) {
    const source = loads.find((l) => l.index === 0);
    bottleneck = { stage: source?.stage ?? "source", index: 0, kind: "source", busyShare: unaccountedShare };
    evidence.push(
      `No stage was busy more than ${pct(top?.busyShare ?? 0)} of the time; ${pct(unaccountedShare)} of the wall time ` +
        "was spent outside metered stages: reading and parsing the source, or waiting on I/O.",
    );
  } else if (top) {
    evidence.push(
      `No single stage limits the run: the busiest, ${top.stage}, was busy ${pct(top.busyShare)} of the time.`,
    );
  }
  const sink = loads.find((l) => l.stage === "sink");
  if (bottleneck && sink && bottleneck.stage !== "sink" && sink.busyShare > 0) {
    evidence.push(`The sink was busy ${pct(sink.busyShare)} of the time.`);
  }
  return { runId: report.run.runId, wallMs, bottleneck, stages: loads, unaccountedShare, evidence };
}

/** The run's wall time: its recorded duration, else the longest a stage was measured. */
function wallTime(report: RunReport): number {
  const d = report.run.durationMs;
  if (d !== null && d > 0) return d;
  return report.stages.reduce((a, s) => Math.max(a, s.intervalMs), 0);
}
