/**
 * Test helpers for the metrics store: deterministic event builders, an
 * independent percentile computation over the same bucket bounds, and a
 * temporary state directory per test file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventInput, EventOf, SluiceEvent } from "../../src/events/schema.ts";
import { BUCKET_BOUNDS_MS, Histogram } from "../../src/metrics/histogram.ts";

export function tempHome(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A latency in the middle of bucket k (90% of its upper bound): the bucket
 * below ends at 80% of it, so there is no doubt which bucket holds it.
 */
export function latencyIn(k: number): number {
  return BUCKET_BOUNDS_MS[k] * 0.9;
}

/**
 * The p-th percentile as the fixed buckets define it, computed without the
 * Histogram class: nearest-rank over the raw samples, mapped to the upper
 * bound of the first bucket ≥ it by linear search, capped by the maximum.
 */
export function expectedPercentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  const v = sorted[rank - 1];
  let bound = BUCKET_BOUNDS_MS[BUCKET_BOUNDS_MS.length - 1];
  for (const b of BUCKET_BOUNDS_MS) {
    if (b >= v) {
      bound = b;
      break;
    }
  }
  return Math.min(bound, sorted[sorted.length - 1]);
}

export function histogramOf(samples: readonly number[]): EventOf<"stage.progress">["latency"] {
  const h = new Histogram();
  for (const v of samples) h.record(v);
  return h.toData();
}

type Base = { runId: string; pipeline: string };

export function ev<E extends EventInput>(base: Base, ts: number, e: E): SluiceEvent {
  return { ...e, ...base, ts } as unknown as SluiceEvent;
}

export interface ProgressSpec {
  readonly stage: string;
  readonly index: number;
  readonly ts: number;
  readonly samples: readonly number[];
  readonly rowsIn?: number;
  readonly rowsOut?: number;
  readonly errors?: number;
  readonly deadLettered?: number;
  readonly filtered?: number;
  readonly busyMs?: number;
  readonly intervalMs?: number;
  readonly queueDepth?: number;
}

export function progress(base: Base, s: ProgressSpec): EventOf<"stage.progress"> {
  const rowsIn = s.rowsIn ?? s.samples.length * 10;
  return {
    kind: "stage.progress",
    ...base,
    ts: s.ts,
    stage: s.stage,
    index: s.index,
    chunks: s.samples.length,
    rowsIn,
    rowsOut: s.rowsOut ?? rowsIn - (s.filtered ?? 0) - (s.deadLettered ?? 0),
    filtered: s.filtered ?? 0,
    deadLettered: s.deadLettered ?? 0,
    errors: s.errors ?? 0,
    bytes: rowsIn * 100,
    busyMs: s.busyMs ?? 0,
    intervalMs: s.intervalMs ?? 1000,
    queueDepth: s.queueDepth,
    latency: histogramOf(s.samples),
  };
}

export function runStarted(base: Base, ts: number, extra: Partial<EventOf<"run.started">> = {}): SluiceEvent {
  return {
    kind: "run.started",
    ...base,
    ts,
    stages: ["1:map"],
    source: "iterable",
    sink: "collect",
    runtime: "node",
    runtimeVersion: "20.0.0",
    host: "test-host",
    definitionHash: "d1",
    ...extra,
  };
}

export function runEnded(
  base: Base,
  ts: number,
  extra: Partial<EventOf<"run.ended">> = {},
): EventOf<"run.ended"> {
  return {
    kind: "run.ended",
    ...base,
    ts,
    status: "completed",
    rowsIn: 0,
    rowsOut: 0,
    filtered: 0,
    deadLettered: 0,
    durationMs: 1000,
    ...extra,
  };
}

/** Minute-aligned start plus 30 s, so buckets of every width are exercised off their edges. */
export const T0 = Date.UTC(2026, 0, 5, 10, 0, 30);

/**
 * A run's durable events as its journal would hold them, deterministic for a
 * given run id: start, 3 stages × `seconds` of progress (crossing minutes),
 * resource samples, dead letters, a retry, an alert raised and resolved, end.
 */
export function runEvents(runId: string, seconds = 150, pipeline = "orders"): SluiceEvent[] {
  const base = { runId, pipeline };
  const r = rng(runId.length * 7919 + seconds);
  const out: SluiceEvent[] = [runStarted(base, T0)];
  for (let i = 0; i < seconds; i++) {
    const ts = T0 + (i + 1) * 1000;
    for (const [index, stage] of ["source", "1:map", "sink"].entries()) {
      const samples = Array.from({ length: 1 + Math.floor(r() * 8) }, () =>
        latencyIn(20 + index * 10 + Math.floor(r() * 15)),
      );
      out.push(
        progress(base, {
          stage,
          index,
          ts,
          samples,
          rowsIn: 100,
          errors: i % 17 === 0 ? 1 : 0,
          busyMs: 100 * (index + 1),
        }),
      );
    }
    out.push(
      ev(base, ts, {
        kind: "resource.sample",
        rssBytes: 1e8 + i * 1e5,
        heapUsedBytes: 5e7,
        cpuPercent: 80,
        eventLoopDelayMs: 1,
      }),
    );
    if (i % 40 === 7) {
      out.push(
        ev(base, ts, {
          kind: "dead.letter",
          stage: "1:map",
          reason: `bad row ${i}`,
          attempts: 1,
          position: { file: "in.csv", line: i + 2 },
          record: { i },
        }),
      );
    }
  }
  out.push(
    ev(base, T0 + 5000, {
      kind: "retry.scheduled",
      stage: "1:map",
      attempt: 1,
      delayMs: 100,
      error: "timeout",
    }),
  );
  out.push(
    ev(base, T0 + 6000, {
      kind: "alert.raised",
      alertId: `${runId}/errorRate/1:map`,
      rule: "errorRate",
      severity: "warning",
      stage: "1:map",
      value: 0.02,
      threshold: 0.01,
      message: "error rate",
    }),
  );
  out.push(
    ev(base, T0 + 9000, {
      kind: "alert.resolved",
      alertId: `${runId}/errorRate/1:map`,
      rule: "errorRate",
      value: 0,
    }),
  );
  out.push(
    runEnded(base, T0 + (seconds + 1) * 1000, {
      rowsIn: seconds * 100,
      rowsOut: seconds * 100,
      durationMs: seconds * 1000,
    }),
  );
  return out;
}

/** A `cluster.worker` interval from a remote worker `host:pid:runtime` (deltas default to 0). */
export function clusterWorker(
  base: Base,
  ts: number,
  w: {
    readonly stage?: string;
    readonly host: string;
    readonly pid: number;
    readonly runtime?: string;
  } & Partial<
    Pick<EventOf<"cluster.worker">, "state" | "tasks" | "records" | "failures" | "busyMs" | "redelivered">
  >,
): EventOf<"cluster.worker"> {
  const runtime = w.runtime ?? "node";
  return {
    kind: "cluster.worker",
    ...base,
    ts,
    stage: w.stage ?? "1:map",
    workerId: `${w.host}:${w.pid}:${runtime}`,
    host: w.host,
    pid: w.pid,
    runtime,
    state: w.state ?? "active",
    tasks: w.tasks ?? 0,
    records: w.records ?? 0,
    failures: w.failures ?? 0,
    busyMs: w.busyMs ?? 0,
    redelivered: w.redelivered ?? 0,
  };
}
