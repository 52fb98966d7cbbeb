/**
 * @module `parallelMap`: runs a module's default-exported function on a pool
 * of worker threads (`src/operators/internal/worker-pool.ts`, which says why it is our
 * own pool on raw worker_threads and not piscina, with figures). The stage
 * keeps a few chunks in flight so the pool's batches stay pipelined, emits in
 * chunk order (or as chunks finish, `ordered: false`), and treats a barrier
 * as a fence: it leaves after every chunk before it and before any chunk after
 * it, so a checkpoint never covers work still on a worker. Records that fail
 * every attempt (thrown, crashed or hung worker) go to the dead letter with
 * the error and attempt count; the pool replaces the worker and goes on.
 *
 * A stop (Ctrl-C, SIGTERM) waits for the chunks on workers, but not for ever:
 * `drainTimeout` (default 30 s) after the stop request, chunks still running
 * (a worker in a busy loop) are abandoned, the workers terminated, and the run
 * ends as interrupted with a `CancelledError` saying so; no checkpoint covers
 * those records, so the journal resumes them.
 */
import type { Chunk } from "../pipeline/chunk.ts";
import { CancelledError, ConfigError, describeError } from "../pipeline/errors.ts";
import { rejectUnknownOptions } from "../pipeline/internal/options.ts";
import type { Operator, StageContext } from "../pipeline/types.ts";
import { type Duration, toMillis } from "../pipeline/units.ts";
import { type ClusterOptions, checkClusterOptions, clusterPool } from "./cluster/options.ts";
import { makeOperator } from "./internal/operator.ts";
import { POOL_OPTION_NAMES } from "./internal/pool-config.ts";
import { type Outbox, type PushStage, runPushStage } from "./internal/push-stage.ts";
import {
  availableCores,
  createWorkerPool,
  type PoolConfigInput,
  type PoolEvent,
  type Priority,
  type RunResult,
  type WorkerPool,
} from "./internal/worker-pool.ts";

export type { ClusterOptions } from "./cluster/options.ts";
export type { Priority } from "./internal/worker-pool.ts";

export interface ParallelMapOptions<A> extends Omit<PoolConfigInput, "onEvent"> {
  /** Keep chunk order (default true). */
  readonly ordered?: boolean;
  /** One priority for the stage, or one per record (default "normal"). */
  readonly priority?: Priority | ((record: A) => Priority);
  /** Chunks in flight at once (default: 2 per worker, at least 4). */
  readonly inFlight?: number;
  /** How long a stop waits for chunks on workers before abandoning them to the journal (default "30s"). */
  readonly drainTimeout?: Duration;
  /** Run the tasks on `sluice worker` processes over NATS JetStream instead of local threads. */
  readonly cluster?: ClusterOptions;
}

/** Chunks in flight on a cluster: the coordinator cannot see how many threads will come. */
const CLUSTER_IN_FLIGHT = 16;

const PARALLEL_MAP_OPTIONS = [
  "ordered",
  "priority",
  "inFlight",
  "drainTimeout",
  "cluster",
  ...POOL_OPTION_NAMES.filter((n) => n !== "onEvent"),
];

/**
 * Maps records on worker threads. The module default-exports a function of
 * one record (or of an array, with `mode: "chunk"`), sync or async; TypeScript
 * modules work on all three runtimes (node, bun, deno).
 *
 * @example
 * ```ts
 * // score.ts: export default (o: Order) => ({ ...o, score: expensive(o) });
 * pipeline("scores")
 *   .from(csv("data/orders.csv"))
 *   .via(parallelMap(new URL("./score.ts", import.meta.url), { workers: "auto", timeout: "5s", retries: 2 }))
 *   .to(ndjson("out/scores.ndjson"));
 * ```
 */
export function parallelMap<A, B>(module: URL | string, options: ParallelMapOptions<A> = {}): Operator<A, B> {
  if (!(module instanceof URL) && (typeof module !== "string" || module.length === 0)) {
    throw new ConfigError("parallelMap(): the first argument must be a module URL or path", {
      hint: 'Pass new URL("./worker.ts", import.meta.url) or a path to a module that default-exports a function.',
    });
  }
  rejectUnknownOptions("parallelMap()", options, PARALLEL_MAP_OPTIONS);
  rejectUnknownOptions("parallelMap() backoff", options.backoff, ["initial", "max", "jitter"]);
  rejectUnknownOptions("parallelMap() heartbeat", options.heartbeat, ["interval", "timeout"]);
  const { ordered = true, priority, inFlight, drainTimeout = "30s", cluster, ...pool } = options;
  if (cluster !== undefined) checkClusterOptions(cluster, pool);
  const drainMs = toMillis(drainTimeout, "parallelMap(): drainTimeout");
  if (inFlight !== undefined && (!Number.isInteger(inFlight) || inFlight < 1)) {
    throw new ConfigError(`parallelMap(): inFlight must be a positive integer, got ${String(inFlight)}`);
  }
  return makeOperator<A, B>("parallelMap", "one", (ctx) => {
    const workerPool = cluster
      ? clusterPool<A, B>(ctx, module, pool, cluster)
      : createWorkerPool<A, B>({ ...pool, module, onEvent: (e) => relay(ctx, e) });
    const emitStats = statsEmitter(ctx, workerPool);
    const stats = ctx.clock.every(1000, emitStats);
    // The worker count: fixed, "auto" (cores − 1) or the pool's own between min and max.
    // Adaptive configuration may change it within [min, max] of `{ min, max }`, else 1..cores.
    const cores = availableCores();
    const w = pool.workers ?? "auto";
    let target: number | undefined =
      typeof w === "number" ? w : w === "auto" ? Math.max(1, cores - 1) : undefined;
    if (!cluster)
      ctx.offerKnob({
        setting: "workers",
        min: typeof w === "object" ? Math.max(1, w.min) : 1,
        max: typeof w === "object" ? w.max : Math.max(cores, target ?? 1),
        get: () => target ?? workerPool.stats().workers,
        set: (n) => {
          target = n;
          workerPool.resize(n);
        },
      });
    const limit = () =>
      inFlight ??
      (cluster ? CLUSTER_IN_FLIGHT : undefined) ??
      Math.max(4, 2 * (target ?? (typeof w === "object" ? w.max : Math.max(1, cores - 1))));
    return {
      type: "stream",
      apply: (input) =>
        runPushStage(
          input,
          ctx.stage,
          () => new PoolStage<A, B>(ctx, workerPool, ordered, limit, priority, drainMs),
        ),
      start: () => workerPool.start(),
      async close() {
        stats();
        emitStats();
        await workerPool.close({ graceful: true });
      },
    };
  });
}

interface Slot<A, B> {
  readonly chunk: Chunk<A>;
  result?: RunResult<A, B>;
  done: boolean;
}

class PoolStage<A, B> implements PushStage<A, B> {
  readonly #slots: Slot<A, B>[] = [];
  #running = 0;
  /** Busy time is the wall time with any chunk on the pool (overlaps once). */
  #busySince = 0;
  #ended = false;
  #admit: (() => void) | undefined;
  #out: Outbox<B> | undefined;

  constructor(
    readonly ctx: StageContext,
    readonly pool: WorkerPool<A, B>,
    readonly ordered: boolean,
    /** Chunks in flight at once (read per chunk: adaptive configuration changes the worker count). */
    readonly limit: () => number,
    readonly priority: ParallelMapOptions<A>["priority"],
    readonly drainMs: number,
  ) {
    const stopping = ctx.stopping;
    if (stopping?.aborted) this.#armDrain();
    else
      stopping?.addEventListener("abort", () => this.#armDrain(), { once: true, signal: this.#drain.signal });
  }

  /** Cancels the drain deadline (the stage ended or stopped). */
  readonly #drain = new AbortController();

  #armDrain(): void {
    this.ctx.clock.sleep(this.drainMs, this.#drain.signal).then(
      () => this.#drainExpired(),
      () => undefined, // cancelled: the stage finished in time
    );
  }

  /** The stop's deadline passed with chunks still on workers: give them back to the journal and stop. */
  #drainExpired(): void {
    const out = this.#out;
    if (this.#running === 0 || !out) return;
    const records = this.#slots.reduce((n, s) => n + (s.done ? 0 : s.chunk.records.length), 0);
    out.fail(
      new CancelledError(
        `stage ${this.ctx.stage}: ${this.#running} chunk(s) (${records} records) were still on workers ` +
          `${this.drainMs} ms after the stop request; the workers were stopped and those records left unwritten ` +
          "(no checkpoint covers them)",
        {
          hint:
            "Run the same command again (or `sluice resume RUN`): the run resumes from its last checkpoint and processes them. " +
            "Raise parallelMap's drainTimeout to wait longer, or set its timeout so a record that hangs is dead-lettered.",
        },
      ),
      this.ctx.stage,
    );
    void this.pool.close({ graceful: false });
  }

  push(chunk: Chunk<A>, out: Outbox<B>): void | Promise<void> {
    this.#out = out;
    const slot: Slot<A, B> = { chunk, done: chunk.barrier !== undefined || chunk.records.length === 0 };
    this.#slots.push(slot);
    if (!slot.done) {
      const t0 = this.ctx.clock.monotonic();
      if (this.#running++ === 0) this.#busySince = t0;
      this.pool.run(chunk.records, this.priority ? { priority: this.priority } : undefined).then(
        (result) => {
          const t1 = this.ctx.clock.monotonic();
          this.ctx.reportChunk(t1 - t0);
          slot.result = result;
          slot.done = true;
          if (--this.#running === 0) this.ctx.reportBusy(t1 - this.#busySince);
          this.#flush();
        },
        (e) => out.fail(e, this.ctx.stage),
      );
    }
    this.#flush();
    if (this.#running < this.limit()) return;
    return new Promise<void>((resolve) => {
      this.#admit = resolve;
    });
  }

  end(out: Outbox<B>): void {
    this.#ended = true;
    this.#out = out;
    this.#flush();
  }

  stop(): void {
    this.#slots.length = 0;
    this.#drain.abort();
  }

  /** Emits finished slots: in order, or (unordered) any finished chunk not behind a pending barrier. */
  #flush(): void {
    const out = this.#out;
    if (!out) return;
    const slots = this.#slots;
    if (this.ordered) {
      while (slots.length && slots[0].done) this.#emit(slots.shift()!, out);
    } else {
      for (let i = 0; i < slots.length; ) {
        const s = slots[i];
        if (s.chunk.barrier) {
          if (i === 0) {
            this.#emit(slots.shift()!, out);
            continue;
          }
          break; // nothing after a barrier leaves before it
        }
        if (s.done) {
          slots.splice(i, 1);
          this.#emit(s, out);
        } else i++;
      }
    }
    if (this.#admit && this.#running < this.limit()) {
      const admit = this.#admit;
      this.#admit = undefined;
      admit();
    }
    if (this.#ended && slots.length === 0) {
      this.#drain.abort();
      out.end();
    }
  }

  #emit(slot: Slot<A, B>, out: Outbox<B>): void {
    const { chunk, result } = slot;
    if (!result) {
      out.push(chunk as unknown as Chunk<B>);
      return;
    }
    let values = result.values as B[];
    if (result.failures.length) {
      const failed = new Set<number>();
      for (const f of result.failures) {
        failed.add(f.index);
        if (this.ctx.onError === "fail") {
          out.fail(
            new Error(
              `record ${f.index} of chunk ${chunk.seq} failed after ${f.attempts} attempts: ${f.error.message}`,
            ),
            this.ctx.stage,
          );
          return;
        }
        this.ctx.deadLetter({
          reason: `${this.ctx.stage} failed after ${f.attempts} attempt(s): ${f.error.name}: ${f.error.message}`,
          error: f.error.message,
          attempts: f.attempts,
          position: {
            chunk: chunk.seq,
            index: f.index,
            byteOffset: typeof chunk.start?.byte === "number" ? chunk.start.byte : undefined,
          },
          record: f.record,
        });
      }
      values = values.filter((_, i) => !failed.has(i));
    }
    out.push({
      records: values,
      seq: chunk.seq,
      start: chunk.start,
      end: chunk.end,
      bytes: chunk.bytes,
      createdAt: chunk.createdAt,
    });
  }
}

function relay(ctx: StageContext, e: PoolEvent): void {
  const base = { kind: "worker.lifecycle" as const, stage: ctx.stage };
  switch (e.kind) {
    case "worker.started":
      ctx.emit({ ...base, action: "started", workerId: e.workerId, reason: e.reason });
      break;
    case "worker.replaced":
      ctx.emit({
        ...base,
        action: "replaced",
        workerId: e.workerId,
        reason: `${e.reason}${e.error ? `: ${e.error.message}` : ""}${e.exitCode !== null ? ` (exit ${e.exitCode})` : ""}`,
      });
      break;
    case "worker.scaled":
      ctx.emit({
        ...base,
        action: e.to > e.from ? "scaled-up" : "scaled-down",
        workers: e.to,
        reason: e.reason,
      });
      break;
    case "worker.stopped":
      ctx.emit({ ...base, action: "exited", workerId: e.workerId, reason: e.reason });
      break;
    case "task.timeout":
      ctx.emit({
        ...base,
        action: "task-timeout",
        workerId: e.workerId,
        reason: `${e.records} record(s) over ${e.timeoutMs} ms`,
      });
      break;
    case "task.retried":
      ctx.emit({
        ...base,
        action: "task-retried",
        reason: `attempt ${e.attempt} of ${e.records} record(s) in ${Math.round(e.delayMs)} ms: ${describeError(e.error.message)}`,
      });
      break;
    default:
      break;
  }
}

/**
 * `worker.stats`: gauges (workers, idle, busy, queue depth, utilisation, average task time)
 * are current values; counters (completed, failed, retried) are deltas since the last
 * event, like `stage.progress`, so the metrics store can add them up.
 */
function statsEmitter<A, B>(ctx: StageContext, pool: WorkerPool<A, B>): () => void {
  let last = { completed: 0, failed: 0, retried: 0 };
  return () => {
    const s = pool.stats();
    ctx.emit({
      kind: "worker.stats",
      stage: ctx.stage,
      workers: s.workers,
      idle: s.idle,
      busy: s.busy,
      queueDepth: s.queued.high + s.queued.normal + s.queued.low,
      completed: s.completed - last.completed,
      failed: s.failed - last.failed,
      retried: s.retried - last.retried,
      avgTaskMs: s.avgTaskMs,
      utilisation: s.utilisation,
    });
    last = { completed: s.completed, failed: s.failed, retried: s.retried };
  };
}
