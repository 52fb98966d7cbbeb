/**
 * @module Public operators (`sluice/operators`).
 */
export { type AggregateOptions, type AggregateResult, type AggregateSpec, aggregate } from "./aggregate.ts";
export { type BulkheadOptions, BulkheadOptionsSchema, bulkhead } from "./bulkhead.ts";
export { type CacheOptions, CacheOptionsSchema, cache } from "./cache.ts";
export { type AdaptiveChunkOptions, type ChunkOptions, chunk } from "./chunk.ts";
export {
  type CircuitBreakerOptions,
  CircuitBreakerOptionsSchema,
  circuitBreaker,
} from "./circuit-breaker.ts";
export { type DedupeOptions, dedupe, type Key } from "./dedupe.ts";
export { BulkheadFullError, CircuitOpenError, TimeoutError } from "./errors.ts";
export { fallback } from "./fallback.ts";
export { filter } from "./filter.ts";
export { flatMap } from "./flat-map.ts";
export { type MaybeAsync, makeOperator } from "./internal/operator.ts";
export { type KeyedContext, type KeyedOptions, keyed } from "./keyed.ts";
export { map } from "./map.ts";
export { type MapAsyncOptions, mapAsync } from "./map-async.ts";
export { type ParallelMapOptions, type Priority, parallelMap } from "./parallel-map.ts";
export { type RateLimitOptions, RateLimitOptionsSchema, rateLimit } from "./rate-limit.ts";
export { type RetryOptions, RetryOptionsSchema, retry } from "./retry.ts";
export { type RxOptions, rx } from "./rx.ts";
export { tap } from "./tap.ts";
export { TimeoutOptionsSchema, timeout } from "./timeout.ts";
export {
  type LateRecord,
  type Reducer,
  type WatermarkOptions,
  type WindowColumn,
  type WindowOptions,
  type WindowResult,
  window,
} from "./window.ts";
