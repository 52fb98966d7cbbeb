/**
 * @module `parallelMap(module, { cluster: { nats } })`: checks the cluster options and builds the
 * coordinator pool for one stage of one run. The local pool's record settings (`mode`,
 * `timeout`, `retries`, `maxMemoryMB`) travel to the workers; how many threads run them is each
 * worker's `--concurrency`, so `workers` is refused here with a hint.
 */
import { ConfigError } from "../../pipeline/errors.ts";
import { rejectUnknownOptions } from "../../pipeline/internal/options.ts";
import type { StageContext } from "../../pipeline/types.ts";
import { type Duration, toMillis } from "../../pipeline/units.ts";
import { availableCores } from "../../runtime/worker-thread.ts";
import type { PoolConfigInput } from "../internal/pool-config.ts";
import { resolvePoolConfig } from "../internal/pool-config.ts";
import type { WorkerPool } from "../internal/pool-protocol.ts";
import { createClusterPool } from "./coordinator.ts";

export interface ClusterOptions {
  /** The NATS server(s) with JetStream, e.g. `"nats://10.0.0.5:4222"` (several: comma-separated). */
  readonly nats: string;
  /**
   * How long a worker may hold a task without a sign of life before the server hands it to
   * another worker (default "30s"; a running task renews it). Redeliveries back off from
   * here, doubling up to 4×.
   */
  readonly ackWait?: Duration;
  /** Deliveries of a task before it counts as lost (default retries + 1, at least 2). */
  readonly maxDeliver?: number;
  /** Give up on a NATS server that stays away this long (default "60s"); the run fails and resumes. */
  readonly reconnectFor?: Duration;
}

const CLUSTER_OPTIONS = ["nats", "ackWait", "maxDeliver", "reconnectFor"];
const LOCAL_ONLY = ["workers", "pipeline", "heartbeat", "idleTimeout", "startTimeout"] as const;

export function checkClusterOptions(cluster: ClusterOptions, pool: PoolConfigInput): void {
  if (typeof cluster !== "object" || cluster === null || typeof cluster.nats !== "string" || !cluster.nats) {
    throw new ConfigError(
      'parallelMap(): cluster needs the NATS server, e.g. { cluster: { nats: "nats://127.0.0.1:4222" } }',
    );
  }
  rejectUnknownOptions("parallelMap() cluster", cluster, CLUSTER_OPTIONS);
  for (const name of LOCAL_ONLY) {
    if (pool[name] !== undefined)
      throw new ConfigError(`parallelMap(): ${name} applies to a local pool, not with cluster`, {
        hint: "Each `sluice worker --nats URL --concurrency N` sets how many threads run tasks on its machine.",
      });
  }
  const md = cluster.maxDeliver;
  if (md !== undefined && !(Number.isInteger(md) && md >= 1))
    throw new ConfigError(`parallelMap(): cluster.maxDeliver must be an integer >= 1, got ${String(md)}`);
  if (cluster.ackWait !== undefined) toMillis(cluster.ackWait, "parallelMap(): cluster.ackWait");
}

export function clusterPool<A, B>(
  ctx: StageContext,
  module: URL | string,
  pool: PoolConfigInput,
  cluster: ClusterOptions,
): WorkerPool<A, B> {
  const config = resolvePoolConfig({ ...pool, workers: 1 }, availableCores());
  const ackWaitMs = cluster.ackWait !== undefined ? toMillis(cluster.ackWait, "cluster.ackWait") : 30_000;
  return createClusterPool<A, B>({
    nats: cluster.nats,
    module,
    mode: config.mode,
    timeoutMs: Number.isFinite(config.timeoutMs) ? config.timeoutMs : false,
    retries: config.retries,
    backoff: { initialMs: config.backoffInitialMs, maxMs: config.backoffMaxMs, jitter: config.jitter },
    ...(config.maxMemoryMB !== null ? { maxMemoryMB: config.maxMemoryMB } : {}),
    ackWaitMs,
    maxDeliver: cluster.maxDeliver ?? Math.max(2, config.retries + 1),
    batch: config.batch,
    reconnectForMs:
      cluster.reconnectFor !== undefined ? toMillis(cluster.reconnectFor, "cluster.reconnectFor") : undefined,
    pipeline: ctx.pipeline,
    stage: ctx.stage,
    runId: ctx.runId,
    clock: ctx.clock,
    emit: (e) => ctx.emit(e),
  });
}
