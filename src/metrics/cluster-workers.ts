/**
 * @module A run's remote workers (distributed parallelMap, `cluster.worker`
 * events) from the metrics store's `cluster_worker_totals` view: which
 * machine, tasks and records done, busy share, failures, redeliveries and the
 * last state, per stage and worker. Part of the run report (`summary.ts`).
 */
import type { SqlRow } from "../duckdb/client.ts";
import { num, numOrNull, strOrNull } from "./internal/sql-values.ts";
import type { MetricsReader } from "./summary.ts";

/** One remote worker's figures for one stage of a run. */
export interface ClusterWorkerRecord {
  readonly stage: string;
  /** `host:pid:runtime`. */
  readonly workerId: string;
  readonly host: string;
  readonly pid: number;
  readonly runtime: string;
  /** The last state reported: `active`, `hung` or `gone`. */
  readonly state: string;
  readonly tasks: number;
  readonly records: number;
  readonly failures: number;
  readonly busyMs: number;
  /** Busy time over the run's duration (above 1 when it ran tasks concurrently); null when unknown. */
  readonly busyShare: number | null;
  readonly redelivered: number;
  /** `cluster.worker` events summed. */
  readonly events: number;
  readonly firstAt: string | null;
  readonly lastAt: string | null;
}

export function toClusterWorker(r: SqlRow): ClusterWorkerRecord {
  return {
    stage: String(r.stage),
    workerId: String(r.worker_id),
    host: String(r.host),
    pid: num(r.pid),
    runtime: String(r.runtime),
    state: String(r.state),
    tasks: num(r.tasks),
    records: num(r.records),
    failures: num(r.failures),
    busyMs: num(r.busy_ms),
    busyShare: numOrNull(r.busy_share),
    redelivered: num(r.redelivered),
    events: num(r.events),
    firstAt: strOrNull(r.first_at),
    lastAt: strOrNull(r.last_at),
  };
}

/** The run's remote workers, by stage then worker id; empty for a run without. */
export async function clusterWorkers(db: MetricsReader, runId: string): Promise<ClusterWorkerRecord[]> {
  const rows = await db.all(
    "SELECT * FROM cluster_worker_totals WHERE run_id = $run ORDER BY stage, worker_id",
    { run: runId },
  );
  return rows.map(toClusterWorker);
}
