/**
 * @module The worker pool's book of runs ("jobs"): what happens to records once a worker answers
 * or fails. It queues a run's records by priority, stores results, retries failed records after a
 * backoff, fails records that cannot be cloned to a worker, splits a failed batch to find the
 * poison records, and settles each run and `drain()`. Where records run is the scheduler's
 * business (`pool-scheduler.ts`); this file never sees a worker.
 */
import type { Clock } from "../../runtime/clock.ts";
import { backoffDelay, type PoolConfig } from "./pool-config.ts";
import type { PoolEvent, Priority, RunOptions, RunResult, SerializedError } from "./pool-protocol.ts";
import { type Job, jobIndex, PRIORITIES, type PriorityQueues, type Segment, slice } from "./pool-queue.ts";

/** A pool event before its timestamp is added. */
export type EventBody = PoolEvent extends infer E ? (E extends PoolEvent ? Omit<E, "at"> : never) : never;

export interface JobBookDeps {
  config: PoolConfig;
  clock: Clock;
  random: () => number;
  queue: PriorityQueues;
  emit(body: EventBody): void;
  /** Hands queued work to workers (after a run or a retry is queued). */
  dispatch(): void;
}

export type JobBook = ReturnType<typeof createJobBook>;

export function createJobBook(deps: JobBookDeps) {
  const { config, clock, queue, emit } = deps;
  const jobs = new Set<Job>();
  const delayed = new Set<AbortController>();
  const drainWaiters: Array<() => void> = [];
  const totals = { completed: 0, failed: 0, retried: 0 };
  let retrying = 0;
  let registering = 0;

  /** Queues a run's records by priority; resolves when every record succeeded or failed for good. */
  function add<I, O>(records: readonly I[], options?: RunOptions<I>): Promise<RunResult<I, O>> {
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
      deps.dispatch();
    });
  }

  /** A worker's results for a batch: store them, and retry or fail the records that threw. */
  function done(seg: Segment, values: unknown[], errors: Array<[number, SerializedError]> | null): void {
    const job = seg.job;
    if (!seg.idx && seg.start === 0 && seg.count === job.records.length) job.values = values;
    else for (let i = 0; i < seg.count; i++) job.values[jobIndex(seg, i)] = values[i];
    const failed = errors?.length ?? 0;
    totals.completed += seg.count - failed;
    job.pending -= seg.count - failed;
    if (errors) {
      const idx = errors.map(([i]) => jobIndex(seg, i));
      recordsFailed(
        job,
        idx,
        seg.attempts + 1,
        seg.priority,
        errors.map(([, e]) => e),
      );
    }
    settleJob(job);
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
    const delayMs = backoffDelay(config, attempts, deps.random);
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
        deps.dispatch();
      },
      () => undefined, // aborted by close() or a fatal error
    );
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

  return {
    totals,
    retrying: (): number => retrying,
    has: (job: Job): boolean => jobs.has(job),
    add,
    done,
    batchFailed,
    recordsFailed,
    unsendable,
    settleDrain,
    /** Counts a run until it is queued, so a `close()` issued meanwhile still drains it; call the result then. */
    register(): () => void {
      registering++;
      return () => {
        registering--;
        queueMicrotask(settleDrain);
      };
    },
    drain(): Promise<void> {
      if (jobs.size === 0 && registering === 0) return Promise.resolve();
      return new Promise((resolve) => drainWaiters.push(resolve));
    },
    /** Fails every run with `error` and drops everything queued or waiting for a retry. */
    rejectAll(error: Error): void {
      for (const job of jobs) job.reject(error);
      jobs.clear();
      queue.clear();
      for (const ac of delayed) ac.abort();
      delayed.clear();
      retrying = 0;
    },
  };
}
