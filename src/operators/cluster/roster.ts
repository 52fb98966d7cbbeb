/**
 * @module The coordinator's view of the workers of one cluster stage: who they are (host, pid,
 * runtime), what they did since the last report (tasks, records, failures, busy time,
 * redeliveries) and their state. Flushed as `cluster.worker` events once a second (deltas, so
 * the metrics store adds them up) and once more when the stage closes.
 */
import type { EventInput } from "../../events/schema.ts";
import type { PoolStats } from "../internal/pool-protocol.ts";
import type { WorkerIdentity } from "./protocol.ts";

interface Entry {
  readonly w: WorkerIdentity;
  state: "active" | "hung" | "gone";
  tasks: number;
  records: number;
  failures: number;
  busyMs: number;
  redelivered: number;
  dirty: boolean;
  lastSeen: number;
}

export interface RosterTotals {
  readonly workers: number;
  readonly threads: number;
  readonly tasks: number;
  readonly records: number;
  readonly failures: number;
  readonly busyMs: number;
}

export class Roster {
  readonly #entries = new Map<string, Entry>();
  #tasks = 0;
  #records = 0;
  #failures = 0;
  #busyMs = 0;

  constructor(
    readonly stage: string,
    readonly emit: (event: EventInput) => void,
    readonly now: () => number,
  ) {}

  #entry(w: WorkerIdentity): Entry {
    let e = this.#entries.get(w.id);
    if (!e) {
      e = {
        w,
        state: "active",
        tasks: 0,
        records: 0,
        failures: 0,
        busyMs: 0,
        redelivered: 0,
        dirty: true,
        lastSeen: 0,
      };
      this.#entries.set(w.id, e);
    }
    e.lastSeen = this.now();
    return e;
  }

  seen(w: WorkerIdentity): void {
    const e = this.#entry(w);
    if (e.state !== "active") {
      e.state = "active";
      e.dirty = true;
    }
  }

  result(w: WorkerIdentity, records: number, failures: number, ms: number, redelivered: boolean): void {
    const e = this.#entry(w);
    e.state = "active";
    e.tasks++;
    e.records += records;
    e.failures += failures;
    e.busyMs += ms;
    if (redelivered) e.redelivered++;
    e.dirty = true;
    this.#tasks++;
    this.#records += records;
    this.#failures += failures;
    this.#busyMs += ms;
  }

  /** A task this worker took came back from another one: it hung or died on it. */
  hung(id: string): WorkerIdentity | undefined {
    const e = this.#entries.get(id);
    if (!e || e.state === "gone") return e?.w;
    e.state = "hung";
    e.dirty = true;
    return e.w;
  }

  gone(w: WorkerIdentity): void {
    const e = this.#entry(w);
    e.state = "gone";
    e.dirty = true;
  }

  totals(): RosterTotals {
    let threads = 0;
    let workers = 0;
    for (const e of this.#entries.values()) {
      if (e.state === "gone") continue;
      workers++;
      threads += e.w.concurrency;
    }
    return {
      workers,
      threads,
      tasks: this.#tasks,
      records: this.#records,
      failures: this.#failures,
      busyMs: this.#busyMs,
    };
  }

  /** Emits a `cluster.worker` event per worker that changed, with its deltas. */
  flush(): void {
    for (const e of this.#entries.values()) {
      if (!e.dirty) continue;
      this.emit({
        kind: "cluster.worker",
        stage: this.stage,
        workerId: e.w.id,
        host: e.w.host,
        pid: e.w.pid,
        runtime: e.w.runtime,
        state: e.state,
        tasks: e.tasks,
        records: e.records,
        failures: e.failures,
        busyMs: Math.round(e.busyMs),
        redelivered: e.redelivered,
      });
      e.tasks = e.records = e.failures = e.busyMs = e.redelivered = 0;
      e.dirty = false;
    }
  }
}

/** The local pool's stats shape, for `worker.stats`: threads are the workers' `--concurrency`. */
export function poolStats(
  t: RosterTotals,
  tasks: Iterable<{ readonly taken: boolean; readonly records: { readonly length: number } }>,
  uncut: number,
  elapsedMs: number,
  redelivered: number,
  batchSize: number,
): PoolStats {
  let queued = uncut;
  let inFlight = 0;
  let taken = 0;
  for (const task of tasks) {
    if (task.taken) {
      taken++;
      inFlight += task.records.length;
    } else queued += task.records.length;
  }
  return {
    workers: t.threads,
    idle: Math.max(0, t.threads - taken),
    busy: Math.min(t.threads, taken),
    starting: 0,
    queued: { high: 0, normal: queued, low: 0 },
    retrying: 0,
    inFlight: { batches: taken, records: inFlight },
    completed: t.records - t.failures,
    failed: t.failures,
    retried: redelivered,
    batches: t.tasks,
    replaced: 0,
    reuseRate: 1,
    avgTaskMs: t.records ? t.busyMs / t.records : 0,
    utilisation: t.threads ? Math.min(1, t.busyMs / (elapsedMs * t.threads)) : 0,
    batchSize,
  };
}
