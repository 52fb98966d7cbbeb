/**
 * @module The runtime-neutral brain of the worker pool behind `parallelMap`: pipelined dispatch,
 * blame of poison records, retries, hang detection, heartbeats and scaling. It never touches a
 * thread: `src/operators/internal/worker-pool.ts` hands it a {@link PoolHost} (spawn, post, terminate, read
 * progress) and the engine `Clock`, so every decision here runs on virtual time in tests.
 *
 * Why records cost little: a worker receives batches (one message each, several in flight so
 * it never waits for a round trip) and answers with one array. Per record the only extra work is
 * one store of a progress counter in shared memory. That counter is also how blame works:
 * when a worker crashes or stops progressing, the record it was on pays one attempt, while records
 * it had finished (results lost with it) or not reached run again free. In chunk mode, or without
 * shared memory, the culprit is unknown, so the batch is bisected until poison records stand alone.
 */
import type { Clock } from "../../runtime/clock.ts";
import { backoffDelay, type PoolConfig } from "./pool-config.ts";
import {
  type FromWorker,
  PoolClosedError,
  type PoolEvent,
  type PoolHost,
  type PoolStats,
  type Priority,
  type RunOptions,
  type RunResult,
  type SerializedError,
  type WorkerFailureReason,
  type WorkerHandle,
  WorkerModuleError,
  type WorkerPool,
  type WorkerStartReason,
} from "./pool-protocol.ts";
import {
  type Job,
  jobIndex,
  PRIORITIES,
  PriorityQueues,
  recordsOf,
  type Segment,
  slice,
} from "./pool-queue.ts";

// ~5 ms per message keeps messaging overhead (a few µs) under 0.2%; ~20 ms queued per worker
// covers the main thread being busy with other stages or descheduled on a loaded machine.
const TARGET_BATCH_MS = 5;
const BUFFER_MS = 20;
const MAX_DEPTH = 8;
const MAX_AUTO_BATCH = 1024;
const FIRST_AUTO_BATCH = 32;
const MAX_START_FAILURES = 3;

type EventBody = PoolEvent extends infer E ? (E extends PoolEvent ? Omit<E, "at"> : never) : never;

interface Slot {
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

export interface SchedulerDeps {
  config: PoolConfig;
  host: PoolHost;
  clock: Clock;
  random?: () => number;
  onEvent?: (event: PoolEvent) => void;
  /** Names the module in error messages. */
  moduleName: string;
}

export function createPoolScheduler<I = unknown, O = unknown>(deps: SchedulerDeps): WorkerPool<I, O> {
  const { config, host, clock, moduleName } = deps;
  const random = deps.random ?? Math.random;
  const queue = new PriorityQueues();
  const slots = new Map<number, Slot>();
  const jobs = new Set<Job>();
  const delayed = new Set<AbortController>();
  const drainWaiters: Array<() => void> = [];
  const totals = {
    completed: 0,
    failed: 0,
    retried: 0,
    batches: 0,
    reused: 0,
    replaced: 0,
    workMs: 0,
    workRecords: 0,
  };
  let nextWorkerId = 1;
  let avgRecordMs = 0;
  let retrying = 0;
  let retiredReadyMs = 0;
  let registering = 0;
  let startPromise: Promise<void> | null = null;
  let readyWaiter: ((error: Error | null) => void) | null = null;
  let started = false;
  let closing = false;
  let closed = false;
  let fatal: Error | null = null;
  let startFailures = 0;
  let stopTick: (() => void) | null = null;

  const now = (): number => clock.monotonic();
  const emit = (body: EventBody): void => {
    if (!deps.onEvent) return;
    try {
      deps.onEvent({ ...body, at: clock.now() } as PoolEvent);
    } catch (error) {
      queueMicrotask(() => {
        throw error; // a listener's bug surfaces as an uncaught error, never inside the pool
      });
    }
  };
  const live = (): Slot[] => [...slots.values()];
  const readySlots = (): Slot[] => live().filter((s) => s.state === "ready");

  function spawn(reason: WorkerStartReason): Slot | null {
    const t = now();
    const slot: Slot = {
      id: nextWorkerId++,
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
    try {
      slot.handle = host.spawn(slot.id, {
        message: (m) => onMessage(slot, m),
        exit: (c, e) => onExit(slot, c, e),
      });
    } catch (error) {
      fail(
        new WorkerModuleError(`worker module ${moduleName} cannot be started: ${(error as Error).message}`),
      );
      return null;
    }
    slots.set(slot.id, slot);
    return slot;
  }

  /** Stops a slot without judging its work (the caller decides what happens to `inflight`). */
  function retire(slot: Slot): void {
    slot.state = "gone";
    slots.delete(slot.id);
    if (slot.readyAt !== null) retiredReadyMs += now() - slot.readyAt;
    slot.handle.terminate();
  }

  function onMessage(slot: Slot, m: FromWorker): void {
    if (slot.state === "gone") return;
    slot.lastActive = now();
    slot.pingSentAt = null;
    if (m.t === "done") onDone(slot, m);
    else if (m.t === "ready") {
      slot.state = "ready";
      slot.readyAt = now();
      startFailures = 0;
      emit({
        kind: "worker.started",
        workerId: slot.id,
        reason: slot.reason,
        startupMs: now() - slot.spawnedAt,
      });
      if (readyWaiter && !live().some((s) => s.state === "starting")) readyWaiter(null);
      dispatch();
    } else if (m.t === "init-error") {
      retire(slot);
      fail(new WorkerModuleError(`worker module ${moduleName} ${m.error.message}`));
    }
  }

  function onExit(slot: Slot, code: number, error: SerializedError | null): void {
    if (slot.state === "gone") return;
    if (slot.state === "starting") {
      retire(slot);
      const why = `worker module ${moduleName} exited (code ${code}) while loading${error ? `: ${error.message}` : ""}`;
      if (!started || ++startFailures >= MAX_START_FAILURES) return void fail(new WorkerModuleError(why));
      const replacementId = spawn("replacement")?.id ?? null;
      return void emit({
        kind: "worker.replaced",
        workerId: slot.id,
        replacementId,
        reason: "crash",
        exitCode: code,
        error,
      });
    }
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
      message: `worker ${slot.id} exited with code ${code} while running this record`,
    };
    // A result the parent cannot read would be re-run forever if judged by progress: suspect the batch.
    workerFailed(slot, reason, blame, code, reason === "bad-message");
  }

  /** The module cannot run at all: every waiting run fails instead of hanging. */
  function fail(error: Error): void {
    fatal = error;
    if (!started) return void readyWaiter?.(error);
    for (const job of jobs) job.reject(error);
    jobs.clear();
    queue.clear();
    for (const ac of delayed) ac.abort();
    delayed.clear();
    retrying = 0;
    stopTick?.();
    stopTick = null;
    for (const slot of live()) retire(slot);
    settleDrain();
  }

  function onDone(slot: Slot, m: Extract<FromWorker, { t: "done" }>): void {
    const k = slot.inflight.findIndex((s) => s.seq === m.seq);
    if (k < 0) return;
    const [seg] = slot.inflight.splice(k, 1);
    if (slot.inflight.length === 0) slot.idleSince = now();
    if (slot.draining && slot.inflight.length === 0) {
      retire(slot);
      emit({ kind: "worker.stopped", workerId: slot.id, reason: "resize" });
    }
    totals.batches++;
    if (slot.batchesDone++ > 0) totals.reused++;
    totals.workMs += m.ms;
    totals.workRecords += seg.count;
    avgRecordMs = avgRecordMs === 0 ? m.ms / seg.count : avgRecordMs * 0.8 + (m.ms / seg.count) * 0.2;
    if (m.failed) batchFailed(seg, m.failed, "the chunk function threw");
    else {
      const job = seg.job;
      if (!seg.idx && seg.start === 0 && seg.count === job.records.length) job.values = m.values;
      else for (let i = 0; i < seg.count; i++) job.values[jobIndex(seg, i)] = m.values[i];
      const failed = m.errors?.length ?? 0;
      totals.completed += seg.count - failed;
      job.pending -= seg.count - failed;
      if (m.errors) {
        const idx = m.errors.map(([i]) => jobIndex(seg, i));
        recordsFailed(
          job,
          idx,
          seg.attempts + 1,
          seg.priority,
          m.errors.map(([, e]) => e),
        );
      }
      settleJob(job);
    }
    dispatch();
  }

  /** A batch failed as a whole: split it to find the poison records, or charge the lone record. */
  function batchFailed(seg: Segment, error: SerializedError, why: string): void {
    if (seg.count === 1) {
      recordsFailed(seg.job, [jobIndex(seg, 0)], seg.attempts + 1, seg.priority, [error]);
      return;
    }
    emit({ kind: "task.split", records: seg.count, reason: `${why}: ${error.message}` });
    const mid = seg.count >> 1;
    queue.pushFront([slice(seg, 0, mid), slice(seg, mid, seg.count)]);
  }

  /** Records used up an attempt: retry them after a backoff, or settle them as failures. */
  function recordsFailed(
    job: Job,
    idx: number[],
    attempts: number,
    priority: Priority,
    errors: SerializedError[],
  ): void {
    if (!jobs.has(job)) return;
    if (attempts > config.retries) {
      idx.forEach((index, k) => {
        job.values[index] = undefined; // a real slot, not a hole: holes are skipped by forEach and slow
        job.failures.push({ index, record: job.records[index], error: errors[k] ?? errors[0], attempts });
      });
      job.pending -= idx.length;
      totals.failed += idx.length;
      emit({ kind: "task.dead-lettered", records: idx.length, attempts, error: errors[0] });
      settleJob(job);
      return;
    }
    const delayMs = backoffDelay(config, attempts, random);
    totals.retried += idx.length;
    retrying += idx.length;
    emit({ kind: "task.retried", records: idx.length, attempt: attempts + 1, delayMs, error: errors[0] });
    const ac = new AbortController();
    delayed.add(ac);
    clock.sleep(delayMs, ac.signal).then(
      () => {
        delayed.delete(ac);
        retrying -= idx.length;
        if (!jobs.has(job)) return;
        queue.pushFront([{ job, start: 0, count: idx.length, idx, attempts, priority, seq: 0 }]);
        dispatch();
      },
      () => undefined, // aborted by close() or a fatal error
    );
  }

  function settleJob(job: Job): void {
    if (job.pending > 0 || !jobs.delete(job)) return;
    job.failures.sort((a, b) => a.index - b.index);
    job.resolve({ values: job.values, failures: job.failures });
    settleDrain();
  }

  function settleDrain(): void {
    if (jobs.size > 0 || registering > 0) return;
    for (const resolve of drainWaiters.splice(0)) resolve();
  }

  /** A worker died or stopped progressing: blame by its progress counter, replace it, go on. */
  function workerFailed(
    slot: Slot,
    reason: WorkerFailureReason,
    error: SerializedError,
    code: number | null,
    suspectHead: boolean,
  ): void {
    const progress = suspectHead ? null : slot.handle.progress();
    retire(slot);
    totals.replaced++;
    const innocent: Segment[] = [];
    slot.inflight.forEach((seg, k) => {
      if (progress ? seg.seq !== progress.seq || progress.index >= seg.count : k > 0) innocent.push(seg);
      else if (progress && config.mode === "record") {
        const i = progress.index;
        innocent.push(slice(seg, 0, i), slice(seg, i + 1, seg.count));
        recordsFailed(seg.job, [jobIndex(seg, i)], seg.attempts + 1, seg.priority, [error]);
      } else batchFailed(seg, error, `worker ${reason}`);
    });
    queue.pushFront(innocent.filter((s) => jobs.has(s.job)));
    const replacementId = closed ? null : (spawn("replacement")?.id ?? null);
    emit({ kind: "worker.replaced", workerId: slot.id, replacementId, reason, exitCode: code, error });
    dispatch();
  }

  /** Records per batch: `batch`, or about TARGET_BATCH_MS of work at the measured cost. */
  function costBatch(): number {
    if (config.batch !== "auto") return config.batch;
    return Math.min(
      MAX_AUTO_BATCH,
      avgRecordMs > 0 ? Math.ceil(TARGET_BATCH_MS / avgRecordMs) : FIRST_AUTO_BATCH,
    );
  }

  /** Never so large that a run fits in fewer than two batches per ready worker. */
  function batchSize(readyCount: number): number {
    if (config.batch !== "auto") return config.batch;
    return Math.max(1, Math.min(costBatch(), Math.ceil(queue.size / Math.max(1, 2 * readyCount))));
  }

  /**
   * Batches in flight per worker: `pipeline`, or enough for about BUFFER_MS of queued work, so a
   * worker keeps running while the main thread is busy elsewhere (other stages, a loaded machine).
   */
  function depth(): number {
    if (config.pipeline !== "auto") return config.pipeline;
    const batchMs = costBatch() * avgRecordMs;
    return batchMs > 0 ? Math.min(MAX_DEPTH, Math.max(2, Math.ceil(BUFFER_MS / batchMs))) : 2;
  }

  function dispatch(): void {
    if (closed || fatal) return;
    const ready = readySlots();
    const max = depth();
    while (queue.size > 0) {
      let best: Slot | null = null;
      for (const s of ready)
        if (!s.draining && s.inflight.length < max && (!best || s.inflight.length < best.inflight.length))
          best = s;
      const seg = best && queue.take(batchSize(ready.length));
      if (!best || !seg) break;
      if (best.inflight.length === 0) best.lastActive = now();
      seg.seq = ++best.seq;
      best.inflight.push(seg);
      try {
        best.handle.post({ t: "run", seq: seg.seq, records: recordsOf(seg) });
      } catch (error) {
        best.inflight.pop();
        unsendable(seg, error);
      }
    }
    scaleUp(ready.length);
  }

  /** Records that cannot be cloned to a worker fail at once (no retry can help); the rest go back. */
  function unsendable(seg: Segment, error: unknown): void {
    const bad: number[] = [];
    const good: number[] = [];
    for (let k = 0; k < seg.count; k++) {
      const i = jobIndex(seg, k);
      try {
        structuredClone(seg.job.records[i]);
        good.push(i);
      } catch {
        bad.push(i);
      }
    }
    if (bad.length === 0) bad.push(...good.splice(0));
    const cause: SerializedError = {
      name: "DataCloneError",
      message: `this record cannot be sent to a worker thread (structured clone failed: ${(error as Error)?.message ?? error})`,
    };
    const job = seg.job;
    for (const index of bad) {
      job.values[index] = undefined;
      job.failures.push({ index, record: job.records[index], error: cause, attempts: seg.attempts });
    }
    job.pending -= bad.length;
    totals.failed += bad.length;
    emit({ kind: "task.dead-lettered", records: bad.length, attempts: seg.attempts, error: cause });
    queue.pushFront([{ ...seg, start: 0, count: good.length, idx: good, seq: 0 }]);
    settleJob(job);
  }

  /** More workers (up to `max`) while more is waiting than the ready ones can hold in one round. */
  function scaleUp(readyCount: number): void {
    if (closing || !started || queue.size === 0) return;
    const all = slots.size;
    const capacity = Math.max(1, readyCount) * depth() * costBatch();
    if (all >= config.max || (readyCount > 0 && queue.size <= capacity)) return;
    const want = Math.min(config.max - all, Math.ceil(queue.size / capacity) - (all - readyCount));
    if (want <= 0) return;
    for (let k = 0; k < want; k++) spawn("scale-up");
    emit({ kind: "worker.scaled", from: all, to: all + want, reason: "queue-depth" });
  }

  /** Periodic: start timeouts, per-call timeouts (by progress), heartbeats, idle scale-down. */
  function tick(): void {
    const t = now();
    for (const slot of live()) {
      if (slot.state === "gone") continue;
      if (slot.state === "starting") {
        if (t - slot.spawnedAt <= config.startTimeoutMs) continue;
        retire(slot);
        if (++startFailures >= MAX_START_FAILURES) {
          fail(
            new WorkerModuleError(
              `worker module ${moduleName}: ${startFailures} workers in a row did not start within ${config.startTimeoutMs}ms`,
            ),
          );
          return;
        }
        const replacementId = spawn("replacement")?.id ?? null;
        emit({
          kind: "worker.replaced",
          workerId: slot.id,
          replacementId,
          reason: "start-timeout",
          exitCode: null,
          error: null,
        });
      } else if (slot.inflight.length > 0) {
        const p = slot.handle.progress();
        if (p && (p.seq !== slot.seen.seq || p.index !== slot.seen.index)) {
          slot.seen = p;
          slot.lastActive = t;
        }
        if (t - slot.lastActive <= config.timeoutMs) continue;
        const unit = config.mode === "record" ? "record" : "batch";
        emit({
          kind: "task.timeout",
          workerId: slot.id,
          timeoutMs: config.timeoutMs,
          records: unit === "record" ? 1 : slot.inflight[0].count,
        });
        const error = {
          name: "TaskTimeoutError",
          message: `no result for this ${unit} within ${config.timeoutMs}ms; its worker was stopped`,
        };
        workerFailed(slot, "timeout", error, null, false);
      } else if (slot.pingSentAt !== null && t - slot.pingSentAt > config.heartbeatTimeoutMs) {
        const error = {
          name: "HeartbeatError",
          message: `worker ${slot.id} did not answer a heartbeat within ${config.heartbeatTimeoutMs}ms`,
        };
        workerFailed(slot, "heartbeat", error, null, false);
      } else if (slots.size > config.min && t - slot.idleSince >= config.idleTimeoutMs && queue.size === 0) {
        const from = slots.size;
        retire(slot);
        emit({ kind: "worker.stopped", workerId: slot.id, reason: "idle" });
        emit({ kind: "worker.scaled", from, to: slots.size, reason: "idle" });
      } else if (slot.pingSentAt === null && t - slot.lastActive >= config.heartbeatIntervalMs) {
        slot.pingSentAt = t;
        slot.handle.post({ t: "ping" });
      }
    }
  }

  function start(): Promise<void> {
    startPromise ??= new Promise<void>((resolve, reject) => {
      const timeout = new AbortController();
      readyWaiter = (error) => {
        readyWaiter = null;
        timeout.abort();
        if (error) {
          closed = true;
          for (const slot of live()) retire(slot);
          return reject(error);
        }
        started = true;
        const every = Math.min(
          config.heartbeatIntervalMs,
          config.timeoutMs / 4,
          config.idleTimeoutMs / 2,
          config.startTimeoutMs / 4,
        );
        stopTick = clock.every(Math.max(5, every), tick);
        dispatch();
        resolve();
      };
      clock.sleep(config.startTimeoutMs, timeout.signal).then(
        () =>
          readyWaiter?.(
            new WorkerModuleError(
              `worker module ${moduleName} did not load within ${config.startTimeoutMs}ms`,
            ),
          ),
        () => undefined,
      );
      for (let k = 0; k < Math.max(1, config.min) && !fatal; k++) spawn("warm");
    });
    return startPromise;
  }

  function run(records: readonly I[], options?: RunOptions<I>): Promise<RunResult<I, O>> {
    if (closing)
      return Promise.reject(new PoolClosedError("the worker pool is closed; no new records are accepted"));
    if (started) return enqueue(records, options);
    registering++; // counted until queued, so a close() issued meanwhile still drains this run
    const registered = (): void => {
      registering--;
      queueMicrotask(settleDrain);
    };
    return start().then(
      () => {
        registered();
        return enqueue(records, options);
      },
      (error: unknown) => {
        registered();
        throw error;
      },
    );
  }

  function enqueue(records: readonly I[], options?: RunOptions<I>): Promise<RunResult<I, O>> {
    if (fatal) return Promise.reject(fatal);
    if (closed)
      return Promise.reject(new PoolClosedError("the worker pool was closed before this run started"));
    const n = records.length;
    if (n === 0) return Promise.resolve({ values: [], failures: [] });
    return new Promise<RunResult<I, O>>((resolve, reject) => {
      const job: Job = {
        records,
        values: new Array(n),
        failures: [],
        pending: n,
        resolve: resolve as Job["resolve"],
        reject,
      };
      jobs.add(job);
      const pr = options?.priority ?? "normal";
      if (typeof pr === "string")
        queue.push({ job, start: 0, count: n, idx: null, attempts: 0, priority: pr, seq: 0 });
      else {
        const by: Record<Priority, number[]> = { high: [], normal: [], low: [] };
        for (let i = 0; i < n; i++) by[pr(records[i])].push(i);
        for (const p of PRIORITIES) {
          const idx = by[p];
          if (idx.length > 0)
            queue.push({ job, start: 0, count: idx.length, idx, attempts: 0, priority: p, seq: 0 });
        }
      }
      dispatch();
    });
  }

  function drain(): Promise<void> {
    if (jobs.size === 0 && registering === 0) return Promise.resolve();
    return new Promise((resolve) => drainWaiters.push(resolve));
  }

  async function close(options?: { graceful?: boolean }): Promise<void> {
    closing = true;
    if (options?.graceful !== false) await drain();
    closed = true;
    const error = new PoolClosedError("the worker pool was closed before these records finished");
    for (const job of jobs) job.reject(error);
    jobs.clear();
    queue.clear();
    for (const ac of delayed) ac.abort();
    delayed.clear();
    retrying = 0;
    stopTick?.();
    stopTick = null;
    for (const slot of live()) {
      retire(slot);
      emit({ kind: "worker.stopped", workerId: slot.id, reason: "close" });
    }
    settleDrain();
  }

  function resize(workers: number): void {
    if (closing || closed || fatal) return;
    const target = Math.max(1, Math.floor(workers));
    const from = live().filter((s) => !s.draining).length;
    config.min = target;
    config.max = target;
    const active = live().filter((s) => !s.draining);
    for (const slot of live())
      if (slot.draining && active.length < target) {
        slot.draining = false; // taken back before it stopped
        active.push(slot);
      }
    if (started) for (let k = active.length; k < target && !fatal; k++) spawn("scale-up");
    // Stop the surplus: idle and starting workers first, then the least loaded busy ones.
    const surplus = active.sort((a, b) => a.inflight.length - b.inflight.length).slice(target);
    for (const slot of surplus) {
      if (slot.inflight.length === 0) {
        retire(slot);
        emit({ kind: "worker.stopped", workerId: slot.id, reason: "resize" });
      } else slot.draining = true;
    }
    const to = live().filter((s) => !s.draining).length;
    if (to !== from) emit({ kind: "worker.scaled", from, to, reason: "resize" });
    dispatch();
  }

  function stats(): PoolStats {
    const s = { idle: 0, busy: 0, starting: 0, batches: 0, records: 0, readyMs: retiredReadyMs };
    for (const slot of slots.values()) {
      if (slot.readyAt !== null) s.readyMs += now() - slot.readyAt;
      if (slot.state === "starting") s.starting++;
      else if (slot.inflight.length > 0) s.busy++;
      else s.idle++;
      s.batches += slot.inflight.length;
      for (const seg of slot.inflight) s.records += seg.count;
    }
    return {
      workers: slots.size,
      idle: s.idle,
      busy: s.busy,
      starting: s.starting,
      queued: { ...queue.counts },
      retrying,
      inFlight: { batches: s.batches, records: s.records },
      completed: totals.completed,
      failed: totals.failed,
      retried: totals.retried,
      batches: totals.batches,
      replaced: totals.replaced,
      reuseRate: totals.batches === 0 ? 0 : totals.reused / totals.batches,
      avgTaskMs: totals.workRecords === 0 ? 0 : totals.workMs / totals.workRecords,
      utilisation: s.readyMs === 0 ? 0 : Math.min(1, totals.workMs / s.readyMs),
      batchSize: costBatch(),
    };
  }

  return { start, run, drain, close, stats, resize };
}
