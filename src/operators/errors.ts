/**
 * @module Tagged errors that the recovery operators give to single records.
 * They do not stop a run: they are the `error` of a dead letter (or what a
 * `fallback` or `retryIf` receives), so a user can tell a record that timed
 * out from one the circuit breaker turned away by `_tag` or `instanceof`. The worker pool's two
 * errors are here too. The base is `src/errors.ts`.
 */
import { TaggedError } from "../errors.ts";

/**
 * A call into a stage did not finish within the `timeout` duration.
 *
 * @example
 * ```ts
 * retry({ attempts: 3, retryIf: (e) => e instanceof TimeoutError }, timeout("2s", map(callService)));
 * ```
 */
export class TimeoutError extends TaggedError {
  readonly _tag = "TimeoutError";
  constructor(
    readonly stage: string,
    readonly timeoutMs: number,
  ) {
    super(`${stage} did not finish within ${timeoutMs} ms`);
  }
}

/**
 * The circuit breaker is open: the record was not sent to the failing stage.
 *
 * @example
 * ```ts
 * circuitBreaker({ fallback: (r, e) => (e instanceof CircuitOpenError ? { ...r, score: null } : r) }, map(score));
 * ```
 */
export class CircuitOpenError extends TaggedError {
  readonly _tag = "CircuitOpenError";
  constructor(
    readonly stage: string,
    readonly failureRate: number,
  ) {
    super(`${stage}: circuit open (failure rate ${(failureRate * 100).toFixed(0)}%), record not attempted`);
  }
}

/**
 * The bulkhead's calls and queue were full: the record was shed.
 *
 * @example
 * ```ts
 * fallback((r, e) => (e instanceof BulkheadFullError ? { ...r, enriched: false } : r), bulkhead({ concurrency: 2, queue: 4 }, enrich));
 * ```
 */
export class BulkheadFullError extends TaggedError {
  readonly _tag = "BulkheadFullError";
  constructor(
    readonly stage: string,
    readonly concurrency: number,
    readonly queue: number,
  ) {
    super(`${stage}: bulkhead full (${concurrency} calls running, ${queue} chunks waiting), record shed`);
  }
}

/** The worker module cannot be loaded, or does not default-export a function. */
export class WorkerModuleError extends TaggedError {
  readonly _tag = "WorkerModuleError";
}

/** A run was refused or abandoned because the pool was closed. */
export class PoolClosedError extends TaggedError {
  readonly _tag = "PoolClosedError";
}
