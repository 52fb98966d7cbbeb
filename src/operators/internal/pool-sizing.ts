/**
 * @module How big the pool's batches are and how many it keeps in flight per worker, from the
 * configuration and the measured cost of a record. Pure functions of their arguments, so the
 * scheduler's choices are easy to follow and to test.
 */
import type { PoolConfig } from "./pool-config.ts";

// ~5 ms per message keeps messaging overhead (a few µs) under 0.2%; ~20 ms queued per worker
// covers the main thread being busy with other stages or descheduled on a loaded machine.
const TARGET_BATCH_MS = 5;
const BUFFER_MS = 20;
const MAX_DEPTH = 8;
const MAX_AUTO_BATCH = 1024;
const FIRST_AUTO_BATCH = 32;

type Sizing = Pick<PoolConfig, "batch" | "pipeline">;

/** Records per batch: `batch`, or about TARGET_BATCH_MS of work at the measured cost. */
export function costBatch(config: Sizing, avgRecordMs: number): number {
  if (config.batch !== "auto") return config.batch;
  return Math.min(
    MAX_AUTO_BATCH,
    avgRecordMs > 0 ? Math.ceil(TARGET_BATCH_MS / avgRecordMs) : FIRST_AUTO_BATCH,
  );
}

/** Never so large that a run fits in fewer than two batches per ready worker. */
export function batchSize(config: Sizing, avgRecordMs: number, queued: number, readyCount: number): number {
  if (config.batch !== "auto") return config.batch;
  return Math.max(
    1,
    Math.min(costBatch(config, avgRecordMs), Math.ceil(queued / Math.max(1, 2 * readyCount))),
  );
}

/**
 * Batches in flight per worker: `pipeline`, or enough for about BUFFER_MS of queued work, so a
 * worker keeps running while the main thread is busy elsewhere (other stages, a loaded machine).
 */
export function depth(config: Sizing, avgRecordMs: number): number {
  if (config.pipeline !== "auto") return config.pipeline;
  const batchMs = costBatch(config, avgRecordMs) * avgRecordMs;
  return batchMs > 0 ? Math.min(MAX_DEPTH, Math.max(2, Math.ceil(BUFFER_MS / batchMs))) : 2;
}

/**
 * Workers to add (up to `max`) while more is waiting than the ready ones can hold in one round:
 * 0 when there is room enough.
 */
export function scaleUpBy(
  config: Sizing & Pick<PoolConfig, "max">,
  avgRecordMs: number,
  queued: number,
  workers: number,
  readyCount: number,
): number {
  const capacity = Math.max(1, readyCount) * depth(config, avgRecordMs) * costBatch(config, avgRecordMs);
  if (workers >= config.max || (readyCount > 0 && queued <= capacity)) return 0;
  return Math.max(0, Math.min(config.max - workers, Math.ceil(queued / capacity) - (workers - readyCount)));
}
