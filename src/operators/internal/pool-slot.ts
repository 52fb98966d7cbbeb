/**
 * @module One worker as the scheduler tracks it (a "slot"): its state, the batches it has in
 * flight, its signs of life, and what the periodic check concludes about it (start timeout,
 * call timeout by progress, heartbeat, idle, time to ping). Also the pool's stats, summed over
 * its slots. `actOnCheck` carries out a conclusion with the scheduler's actions
 * (`pool-scheduler.ts` lends them).
 */
import type { PoolConfig } from "./pool-config.ts";
import type { EventBody } from "./pool-jobs.ts";
import {
  type PoolStats,
  type SerializedError,
  type WorkerFailureReason,
  type WorkerHandle,
  WorkerModuleError,
  type WorkerStartReason,
} from "./pool-protocol.ts";
import type { Segment } from "./pool-queue.ts";

export interface Slot {
  id: number;
  handle: WorkerHandle;
  state: "starting" | "ready" | "gone";
  reason: WorkerStartReason;
  inflight: Segment[];
  seq: number;
  spawnedAt: number;
  /** Last sign of life: a message, progress, or being handed work while idle. */
  lastActive: number;
  idleSince: number;
  pingSentAt: number | null;
  seen: { seq: number; index: number };
  batchesDone: number;
  readyAt: number | null;
  /** Above the count set by `resize`: takes no new work and stops when its in-flight work is done. */
  draining?: boolean;
}

/** A slot for a worker being started at `t` (its handle is set once the host spawned it). */
export function newSlot(id: number, reason: WorkerStartReason, t: number): Slot {
  return {
    id,
    handle: undefined as unknown as WorkerHandle,
    state: "starting",
    reason,
    inflight: [],
    seq: 0,
    spawnedAt: t,
    lastActive: t,
    idleSince: t,
    pingSentAt: null,
    seen: { seq: 0, index: 0 },
    batchesDone: 0,
    readyAt: null,
  };
}

/** Workers in a row that may fail to start before the pool gives up. */
export const MAX_START_FAILURES = 3;

/** What the periodic check found for a slot. */
export type SlotCheck = "ok" | "start-timeout" | "timeout" | "heartbeat" | "idle" | "ping";

/**
 * Checks a live slot at time `t`. A busy slot's progress counter counts as a sign of life (it
 * is read here). `workers` and `queued` are the pool's worker count and queued records now.
 */
export function checkSlot(
  slot: Slot,
  t: number,
  config: PoolConfig,
  workers: number,
  queued: number,
): SlotCheck {
  if (slot.state === "starting") return t - slot.spawnedAt <= config.startTimeoutMs ? "ok" : "start-timeout";
  if (slot.inflight.length > 0) {
    const p = slot.handle.progress();
    if (p && (p.seq !== slot.seen.seq || p.index !== slot.seen.index)) {
      slot.seen = p;
      slot.lastActive = t;
    }
    return t - slot.lastActive <= config.timeoutMs ? "ok" : "timeout";
  }
  if (slot.pingSentAt !== null && t - slot.pingSentAt > config.heartbeatTimeoutMs) return "heartbeat";
  if (workers > config.min && t - slot.idleSince >= config.idleTimeoutMs && queued === 0) return "idle";
  if (slot.pingSentAt === null && t - slot.lastActive >= config.heartbeatIntervalMs) return "ping";
  return "ok";
}

/** What the scheduler lends `actOnCheck` to act on a slot's check. */
export interface CheckActions {
  readonly config: PoolConfig;
  /** Names the module in error messages. */
  readonly moduleName: string;
  /** Counts one more worker that did not start in time; returns how many in a row. */
  startFailed(): number;
  /** Workers now (starting, ready or busy). */
  workers(): number;
  retire(slot: Slot): void;
  spawn(reason: WorkerStartReason): Slot | null;
  fail(error: Error): void;
  workerFailed(
    slot: Slot,
    reason: WorkerFailureReason,
    error: SerializedError,
    code: number | null,
    suspectHead: boolean,
  ): void;
  emit(body: EventBody): void;
}

/**
 * Acts on what `checkSlot` concluded about `slot` at time `t`: replaces a worker that did not
 * start (failing the pool after too many in a row), fails the batch of one that stopped
 * progressing or answering heartbeats, stops an idle one, pings a quiet one. Returns false when
 * the pool has failed and the periodic check must stop.
 */
export function actOnCheck(check: SlotCheck, slot: Slot, t: number, a: CheckActions): boolean {
  const { config } = a;
  switch (check) {
    case "start-timeout": {
      a.retire(slot);
      const failures = a.startFailed();
      if (failures >= MAX_START_FAILURES) {
        a.fail(
          new WorkerModuleError(
            `worker module ${a.moduleName}: ${failures} workers in a row did not start within ${config.startTimeoutMs}ms`,
          ),
        );
        return false;
      }
      const replacementId = a.spawn("replacement")?.id ?? null;
      a.emit({
        kind: "worker.replaced",
        workerId: slot.id,
        replacementId,
        reason: "start-timeout",
        exitCode: null,
        error: null,
      });
      return true;
    }
    case "timeout": {
      const unit = config.mode === "record" ? "record" : "batch";
      a.emit({
        kind: "task.timeout",
        workerId: slot.id,
        timeoutMs: config.timeoutMs,
        records: unit === "record" ? 1 : slot.inflight[0].count,
      });
      const error = {
        name: "TaskTimeoutError",
        message: `no result for this ${unit} within ${config.timeoutMs}ms; its worker was stopped`,
      };
      a.workerFailed(slot, "timeout", error, null, false);
      return true;
    }
    case "heartbeat": {
      const error = {
        name: "HeartbeatError",
        message: `worker ${slot.id} did not answer a heartbeat within ${config.heartbeatTimeoutMs}ms`,
      };
      a.workerFailed(slot, "heartbeat", error, null, false);
      return true;
    }
    case "idle": {
      const from = a.workers();
      a.retire(slot);
      a.emit({ kind: "worker.stopped", workerId: slot.id, reason: "idle" });
      a.emit({ kind: "worker.scaled", from, to: a.workers(), reason: "idle" });
      return true;
    }
    case "ping":
      slot.pingSentAt = t;
      slot.handle.post({ t: "ping" });
      return true;
    case "ok":
      return true;
  }
}

export interface StatsInput {
  slots: Iterable<Slot>;
  workers: number;
  now: number;
  /** Ready time of workers already gone (ms). */
  retiredReadyMs: number;
  queued: PoolStats["queued"];
  retrying: number;
  records: { completed: number; failed: number; retried: number };
  totals: { batches: number; reused: number; replaced: number; workMs: number; workRecords: number };
  batchSize: number;
}

export function poolStats(input: StatsInput): PoolStats {
  const { totals } = input;
  const s = { idle: 0, busy: 0, starting: 0, batches: 0, records: 0, readyMs: input.retiredReadyMs };
  for (const slot of input.slots) {
    if (slot.readyAt !== null) s.readyMs += input.now - slot.readyAt;
    if (slot.state === "starting") s.starting++;
    else if (slot.inflight.length > 0) s.busy++;
    else s.idle++;
    s.batches += slot.inflight.length;
    for (const seg of slot.inflight) s.records += seg.count;
  }
  return {
    workers: input.workers,
    idle: s.idle,
    busy: s.busy,
    starting: s.starting,
    queued: input.queued,
    retrying: input.retrying,
    inFlight: { batches: s.batches, records: s.records },
    completed: input.records.completed,
    failed: input.records.failed,
    retried: input.records.retried,
    batches: totals.batches,
    replaced: totals.replaced,
    reuseRate: totals.batches === 0 ? 0 : totals.reused / totals.batches,
    avgTaskMs: totals.workRecords === 0 ? 0 : totals.workMs / totals.workRecords,
    utilisation: s.readyMs === 0 ? 0 : Math.min(1, totals.workMs / s.readyMs),
    batchSize: input.batchSize,
  };
}

/** Why a worker that was running work exited, and the error its blamed record gets. */
export function exitFailure(
  workerId: number,
  code: number,
  error: SerializedError | null,
): { reason: WorkerFailureReason; blame: SerializedError } {
  const c = error?.code;
  const reason: WorkerFailureReason =
    c === "ERR_WORKER_OUT_OF_MEMORY"
      ? "out-of-memory"
      : c === "ERR_WORKER_MESSAGE"
        ? "bad-message"
        : error
          ? "crash"
          : "exit";
  const blame = error ?? {
    name: "WorkerExitError",
    message: `worker ${workerId} exited with code ${code} while running this record`,
  };
  return { reason, blame };
}
