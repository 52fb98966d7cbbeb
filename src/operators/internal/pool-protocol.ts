/**
 * @module The worker pool's contracts, shared by the neutral scheduler (`pool-scheduler.ts`), the
 * thread layer (`src/operators/internal/worker-pool.ts`) and the code inside each worker
 * (`src/operators/internal/pool-worker.ts`): the public pool API and its results, lifecycle events, the
 * messages crossing the thread boundary, and the capability the runtime hands the scheduler.
 * Types only (plus a re-export of the pool's two tagged errors from `operators/errors.ts`), so a
 * worker imports nothing at run time.
 */

export type Priority = "high" | "normal" | "low";

/** An error as it crosses a thread boundary. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/** A record that failed every attempt: the dead letter's input. */
export interface RecordFailure<I = unknown> {
  /** Position of the record in the array given to `run`. */
  index: number;
  record: I;
  error: SerializedError;
  attempts: number;
}

/** Index-aligned results, so a run costs no wrapper object per record. */
export interface RunResult<I = unknown, O = unknown> {
  /** `values[i]` is the output for `records[i]`; `undefined` where the record failed. */
  values: Array<O | undefined>;
  /** Failed records by ascending index. */
  failures: Array<RecordFailure<I>>;
}

export interface RunOptions<I = unknown> {
  /** One priority for the whole run, or one per record. */
  priority?: Priority | ((record: I) => Priority);
}

export interface PoolStats {
  workers: number;
  idle: number;
  busy: number;
  starting: number;
  /** Records waiting for a worker, by priority. */
  queued: Record<Priority, number>;
  /** Records waiting out a retry backoff. */
  retrying: number;
  inFlight: { batches: number; records: number };
  /** Records that succeeded, failed for good, and record retries scheduled. */
  completed: number;
  failed: number;
  retried: number;
  batches: number;
  replaced: number;
  /** Share of batches that ran on a worker which had already run one. */
  reuseRate: number;
  /** Average worker time per record, ms. */
  avgTaskMs: number;
  /** Share of ready-worker time spent running records (0..1), since the pool started. */
  utilisation: number;
  /** Records per batch the pool cuts now (`"auto"`: from measured cost, about 5 ms of work). */
  batchSize: number;
}

/** What `parallelMap` drives. Create one with `createWorkerPool` (`src/operators/internal/worker-pool.ts`). */
export interface WorkerPool<I = unknown, O = unknown> {
  /** Spawns the warm workers and checks the module default-exports a function; rejects if not. */
  start(): Promise<void>;
  run(records: readonly I[], options?: RunOptions<I>): Promise<RunResult<I, O>>;
  /** Resolves when nothing is queued, waiting for a retry or in flight. */
  drain(): Promise<void>;
  /** Graceful by default: refuses new runs, drains, then stops the workers. */
  close(options?: { graceful?: boolean }): Promise<void>;
  stats(): PoolStats;
  /**
   * Sets the worker count to `workers` (at least 1) from now on: starts the
   * missing workers, stops idle ones above it at once and busy ones as their
   * work finishes (no batch is abandoned). Used by adaptive configuration.
   */
  resize(workers: number): void;
}

export type WorkerStartReason = "warm" | "scale-up" | "replacement";
export type WorkerFailureReason =
  | "crash"
  | "exit"
  | "out-of-memory"
  | "timeout"
  | "heartbeat"
  | "start-timeout"
  | "bad-message";

/** Lifecycle events: plain objects, off the hot path (never one per successful record). */
export type PoolEvent =
  | { kind: "worker.started"; at: number; workerId: number; reason: WorkerStartReason; startupMs: number }
  | {
      kind: "worker.replaced";
      at: number;
      workerId: number;
      replacementId: number | null;
      reason: WorkerFailureReason;
      exitCode: number | null;
      error: SerializedError | null;
    }
  | { kind: "worker.scaled"; at: number; from: number; to: number; reason: "queue-depth" | "idle" | "resize" }
  | { kind: "worker.stopped"; at: number; workerId: number; reason: "idle" | "close" | "resize" }
  | { kind: "task.timeout"; at: number; workerId: number; timeoutMs: number; records: number }
  | {
      kind: "task.retried";
      at: number;
      records: number;
      attempt: number;
      delayMs: number;
      error: SerializedError;
    }
  | { kind: "task.split"; at: number; records: number; reason: string }
  | { kind: "task.dead-lettered"; at: number; records: number; attempts: number; error: SerializedError };

/** Parent to worker. */
export type ToWorker = { t: "run"; seq: number; records: readonly unknown[] } | { t: "ping" };
/** Worker to parent. `errors` lists per-record failures; `failed` fails the whole batch (chunk mode). */
export type FromWorker =
  | { t: "ready" }
  | { t: "init-error"; error: SerializedError }
  | {
      t: "done";
      seq: number;
      values: unknown[];
      errors: Array<[number, SerializedError]> | null;
      failed: SerializedError | null;
      ms: number;
    }
  | { t: "pong" };

/** The runtime capability the scheduler runs on: one worker. */
export interface WorkerHandle {
  post(message: ToWorker): void;
  /** Batch `seq` the worker is on and how many of its records it finished; null if unknown. */
  progress(): { seq: number; index: number } | null;
  terminate(): void;
}
export interface WorkerListener {
  message(message: FromWorker): void;
  exit(code: number, error: SerializedError | null): void;
}
export interface PoolHost {
  /** Starts a worker; throwing means the module cannot be used (reported by `start`). */
  spawn(workerId: number, listener: WorkerListener): WorkerHandle;
}

export { PoolClosedError, WorkerModuleError } from "../errors.ts";
