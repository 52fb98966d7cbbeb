/**
 * @module The one fold of `cluster.worker`: how a remote worker's interval
 * deltas add up per (stage, worker), wherever they are summed (the run
 * projection, so live views and `sluice replay` have them; `sluice runs`
 * over a journal). The metrics store sums the same columns in SQL
 * (`cluster_worker_totals`). A worker serving two stages has two rows.
 *
 * Deltas of an attempt that crashed are kept when a later attempt resumes
 * from a checkpoint (unlike stage totals): the worker did that work, and
 * this is what the workers did, not what the run output.
 */
import type { EventOf } from "../schema.ts";

type ClusterWorker = EventOf<"cluster.worker">;

/** One remote worker's totals for one stage of a run. */
export interface ClusterWorkerTotals {
  readonly stage: string;
  /** `host:pid:runtime`. */
  readonly workerId: string;
  readonly host: string;
  readonly pid: number;
  readonly runtime: string;
  /** As of its last event: `active`, `hung` or `gone`. */
  state: ClusterWorker["state"];
  tasks: number;
  records: number;
  failures: number;
  busyMs: number;
  redelivered: number;
  /** Events folded in. */
  events: number;
  /** First and last event time, ms since epoch. */
  firstAt: number;
  lastAt: number;
}

/** Adds one event to `workers` (one row per stage and worker, in order of first appearance). */
export function foldClusterWorker(workers: ClusterWorkerTotals[], e: ClusterWorker): void {
  let w = workers.find((x) => x.stage === e.stage && x.workerId === e.workerId);
  if (!w) {
    w = {
      stage: e.stage,
      workerId: e.workerId,
      host: e.host,
      pid: e.pid,
      runtime: e.runtime,
      state: e.state,
      tasks: 0,
      records: 0,
      failures: 0,
      busyMs: 0,
      redelivered: 0,
      events: 0,
      firstAt: e.ts,
      lastAt: e.ts,
    };
    workers.push(w);
  }
  w.tasks += e.tasks;
  w.records += e.records;
  w.failures += e.failures;
  w.busyMs += e.busyMs;
  w.redelivered += e.redelivered;
  w.events++;
  if (e.ts >= w.lastAt) {
    w.state = e.state;
    w.lastAt = e.ts;
  }
  if (e.ts < w.firstAt) w.firstAt = e.ts;
}

/**
 * Busy time over the run's duration; above 1 when the worker ran tasks
 * concurrently. Null when the duration is unknown or 0.
 */
export function busyShare(busyMs: number, durationMs: number | null | undefined): number | null {
  return durationMs !== null && durationMs !== undefined && durationMs > 0 ? busyMs / durationMs : null;
}

/** A worker's totals with its busy share, as `sluice runs --json` and the HTTP route give them. */
export function withBusyShare(
  w: ClusterWorkerTotals,
  durationMs: number | null | undefined,
): Omit<ClusterWorkerTotals, "events"> & { busyShare: number | null } {
  const { events: _folded, ...totals } = w;
  return { ...totals, busyShare: busyShare(w.busyMs, durationMs) };
}
