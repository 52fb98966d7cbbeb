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
 *
 * This file runs the workers (start, dispatch, health, scaling, close). What happens to records
 * (results, retries, bisection, settling runs) is `pool-jobs.ts`; batch sizes and scale-up counts
 * are `pool-sizing.ts`; a worker's bookkeeping, its periodic check (and what to do about it) and
 * the stats are `pool-slot.ts`.
 */
import type { Clock } from "../../runtime/clock.ts";
import type { PoolConfig } from "./pool-config.ts";
import { createJobBook, type EventBody } from "./pool-jobs.ts";
import {
  type FromWorker,
  PoolClosedError,
  type PoolEvent,
  type PoolHost,
  type PoolStats,
  type RunOptions,
  type RunResult,
  type SerializedError,
  type WorkerFailureReason,
  WorkerModuleError,
  type WorkerPool,
  type WorkerStartReason,
} from "./pool-protocol.ts";
import { jobIndex, PriorityQueues, recordsOf, type Segment, slice } from "./pool-queue.ts";
import * as sizing from "./pool-sizing.ts";
import {
  actOnCheck,
  type CheckActions,
  checkSlot,
  exitFailure,
  MAX_START_FAILURES,
  newSlot,
  poolStats,
  type Slot,
} from "./pool-slot.ts";

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
  const totals = {
    batches: 0,
    reused: 0,
    replaced: 0,
    workMs: 0,
    workRecords: 0,
  };
  let nextWorkerId = 1;
  let avgRecordMs = 0;
  let retiredReadyMs = 0;
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
  const book = createJobBook({ config, clock, random, queue, emit, dispatch: () => dispatch() });
  const live = (): Slot[] => [...slots.values()];
  const readySlots = (): Slot[] => live().filter((s) => s.state === "ready");

  function spawn(reason: WorkerStartReason): Slot | null {
    const slot = newSlot(nextWorkerId++, reason, now());
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
    const { reason, blame } = exitFailure(slot.id, code, error);
    // A result the parent cannot read would be re-run forever if judged by progress: suspect the batch.
    workerFailed(slot, reason, blame, code, reason === "bad-message");
  }

  /** The module cannot run at all: every waiting run fails instead of hanging. */
  function fail(error: Error): void {
    fatal = error;
    if (!started) return void readyWaiter?.(error);
    book.rejectAll(error);
    stopTick?.();
    stopTick = null;
    for (const slot of live()) retire(slot);
    book.settleDrain();
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
    if (m.failed) book.batchFailed(seg, m.failed, "the chunk function threw");
    else book.done(seg, m.values, m.errors);
    dispatch();
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
        book.recordsFailed(seg.job, [jobIndex(seg, i)], seg.attempts + 1, seg.priority, [error]);
      } else book.batchFailed(seg, error, `worker ${reason}`);
    });
    queue.pushFront(innocent.filter((s) => book.has(s.job)));
    const replacementId = closed ? null : (spawn("replacement")?.id ?? null);
    emit({ kind: "worker.replaced", workerId: slot.id, replacementId, reason, exitCode: code, error });
    dispatch();
  }

  const costBatch = (): number => sizing.costBatch(config, avgRecordMs);
  const depth = (): number => sizing.depth(config, avgRecordMs);
  const batchSize = (readyCount: number): number =>
    sizing.batchSize(config, avgRecordMs, queue.size, readyCount);

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
        book.unsendable(seg, error);
      }
    }
    scaleUp(ready.length);
  }

  /** More workers (up to `max`) while more is waiting than the ready ones can hold in one round. */
  function scaleUp(readyCount: number): void {
    if (closing || !started || queue.size === 0) return;
    const all = slots.size;
    const want = sizing.scaleUpBy(config, avgRecordMs, queue.size, all, readyCount);
    if (want <= 0) return;
    for (let k = 0; k < want; k++) spawn("scale-up");
    emit({ kind: "worker.scaled", from: all, to: all + want, reason: "queue-depth" });
  }

  const actions: CheckActions = {
    config,
    moduleName,
    startFailed: () => ++startFailures,
    workers: () => slots.size,
    retire,
    spawn,
    fail,
    workerFailed,
    emit,
  };

  /** Periodic: start timeouts, per-call timeouts (by progress), heartbeats, idle scale-down. */
  function tick(): void {
    const t = now();
    for (const slot of live()) {
      if (slot.state === "gone") continue;
      if (!actOnCheck(checkSlot(slot, t, config, slots.size, queue.size), slot, t, actions)) return;
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
    const registered = book.register(); // so a close() issued meanwhile still drains this run
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
    return book.add<I, O>(records, options);
  }

  async function close(options?: { graceful?: boolean }): Promise<void> {
    closing = true;
    if (options?.graceful !== false) await book.drain();
    closed = true;
    book.rejectAll(new PoolClosedError("the worker pool was closed before these records finished"));
    stopTick?.();
    stopTick = null;
    for (const slot of live()) {
      retire(slot);
      emit({ kind: "worker.stopped", workerId: slot.id, reason: "close" });
    }
    book.settleDrain();
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
    return poolStats({
      slots: slots.values(),
      workers: slots.size,
      now: now(),
      retiredReadyMs,
      queued: { ...queue.counts },
      retrying: book.retrying(),
      records: book.totals,
      totals,
      batchSize: costBatch(),
    });
  }

  return { start, run, drain: book.drain, close, stats, resize };
}
