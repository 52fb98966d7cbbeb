/**
 * @module The worker pool behind `parallelMap`: the host the scheduler runs on (spawn a worker
 * thread through `src/runtime/worker-thread.ts`, post, terminate, read its progress memory) and
 * the system clock. Every decision (priorities, batching, blame, retries, timeouts, heartbeats,
 * scaling) lives in the runtime-neutral `pool-scheduler.ts`; starting a thread, TypeScript loading
 * and the runtimes' differences live in `src/runtime/worker-thread.ts`.
 *
 * Decision (issue 8): our own pool on raw `worker_threads`, not piscina. Measured first
 * (benchmarks/peers, 100k records of { id, user, amount } through a trivial function, 1 worker,
 * 1024 records per message, µs per record, best of 3, 2 shared cores, load average < 1):
 *
 *   |               | node 20 | bun 1.4 | deno 2.9 |
 *   | raw batched   |  0.95   |  0.48   |  0.79    |
 *   | piscina 5.3   |  1.40   |  1.09   |  1.64    |
 *   | piscina, 1/msg|  62     |  69     |  99      |
 *
 * Piscina runs on all three runtimes, but batched it still costs 1.5–2.3× raw (a task object,
 * promise and wake-up per message, no pipelining to a worker), and the parts we need most are not
 * in it: per-record blame of crashes and hangs, bisection of poison batches, heartbeats, retries
 * with backoff, three priorities, lifecycle events. Those would be a layer on top of piscina's
 * cost; on raw workers they cost one shared-memory store per record.
 *
 * Result (`benchmarks/parallel-map.bench.ts`: 200k records in chunks of 10k, 4 chunks in flight,
 * default "auto" batching vs 1024 per message for the peers, best of 7, load average 2–5):
 *
 *   µs/record, 1 | 2 workers  | node 20             | bun 1.4             | deno 2.9
 *   objects: sluice          | 1.11 | 0.62         | 0.75 | 0.75         | 1.37 | 1.02
 *            raw / piscina   | 1.22 | 0.73 / 1.32  | 0.83 | 0.80 / 0.84  | 1.47 | 1.40 / 1.89
 *   numbers: sluice          | 0.14 | 0.16         | 0.08 | 0.09         | 0.23 | 0.14
 *            raw / piscina   | 0.22 | 0.21 / 0.24  | 0.07 | 0.07 / 0.09  | 0.23 | 0.21 / 0.33
 *
 * So the pool costs 0.65–1.24× raw batched workers and 0.46–1.02× batched piscina. The floor is
 * structured clone itself (~0.4 µs for a small object on each runtime): the ≤0.5 µs/record goal
 * holds for numbers and small values, not for object records, on any pool. CPU-bound, 400 × ~1 ms
 * records with both cores idle: 2 workers over 1 = 1.99× (node), 1.97× (bun), 1.97× (deno),
 * workers busy 97–99% of the wall time; with other processes on the cores it falls to 1.0–1.8×.
 * Per-runtime notes (TypeScript workers on Node, memory limits, Deno's terminate) are in
 * `src/runtime/worker-thread.ts`.
 */
import { systemClock } from "../../runtime/clock.ts";
import { availableCores, missingFile, moduleHref, startWorkerThread } from "../../runtime/worker-thread.ts";
import { type PoolConfig, type PoolConfigInput, resolvePoolConfig } from "./pool-config.ts";
import type { FromWorker, PoolHost, SerializedError, WorkerPool } from "./pool-protocol.ts";
import { createPoolScheduler } from "./pool-scheduler.ts";

export { availableCores } from "../../runtime/worker-thread.ts";
export type { PoolConfigInput } from "./pool-config.ts";
export {
  PoolClosedError,
  type PoolEvent,
  type PoolStats,
  type Priority,
  type RecordFailure,
  type RunOptions,
  type RunResult,
  WorkerModuleError,
  type WorkerPool,
} from "./pool-protocol.ts";

export interface WorkerPoolOptions extends PoolConfigInput {
  /** The module whose default export runs on the workers: a URL or a path (relative to cwd). */
  module: URL | string;
}

const bootstrapUrl = new URL(
  import.meta.url.endsWith(".ts") ? "./pool-worker.ts" : "./pool-worker.js",
  import.meta.url,
).href;

function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: "NonErrorThrown", message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    ...(typeof code === "string" ? { code } : {}),
  };
}

function workerHost(href: string, config: PoolConfig): PoolHost {
  let checked = false;
  const typescript = /\.[cm]?tsx?$/.test(new URL(href).pathname) || bootstrapUrl.endsWith(".ts");
  return {
    spawn(_workerId, listener) {
      if (!checked) {
        const path = missingFile(href);
        if (path !== null) {
          throw new Error(
            `file not found: ${path} (new URL("./score.ts", import.meta.url) resolves next to the calling file)`,
          );
        }
      }
      checked = true;
      const sab = typeof SharedArrayBuffer === "function" ? new SharedArrayBuffer(8) : null;
      const progress = sab ? new Int32Array(sab) : null;
      let error: SerializedError | null = null;
      let exited = false;
      const thread = startWorkerThread(
        {
          entry: bootstrapUrl,
          data: { moduleUrl: href, mode: config.mode, progress: sab },
          maxMemoryMB: config.maxMemoryMB,
          typescript,
        },
        {
          message: (m) => listener.message(m as FromWorker),
          loaderError: (e) => listener.message({ t: "init-error", error: e }),
          error(e) {
            error ??= serializeError(e);
            thread.terminate();
          },
          messageError(e) {
            error ??= { ...serializeError(e), code: "ERR_WORKER_MESSAGE" };
            thread.terminate();
          },
          exit(code) {
            if (exited) return;
            exited = true;
            listener.exit(code, error);
          },
        },
      );
      return {
        post: (message) => thread.post(message),
        progress() {
          if (!progress) return null;
          for (;;) {
            const seq = Atomics.load(progress, 0);
            const index = Atomics.load(progress, 1);
            if (Atomics.load(progress, 0) === seq) return { seq, index };
          }
        },
        terminate: () => thread.terminate(),
      };
    },
  };
}

/**
 * A pool of worker threads running a module's default export over batches of records, with
 * per-record results, retries, blame of crashing or hanging records, and lifecycle events.
 *
 * @example
 * const pool = createWorkerPool({ module: new URL("./score.ts", import.meta.url), workers: { min: 1, max: 4 } });
 * await pool.start(); // rejects now if the module is missing or has no default-exported function
 * const { values, failures } = await pool.run(records, { priority: "high" });
 * await pool.close();
 */
export function createWorkerPool<I = unknown, O = unknown>(options: WorkerPoolOptions): WorkerPool<I, O> {
  const config = resolvePoolConfig(options, availableCores());
  const href = moduleHref(options.module);
  return createPoolScheduler<I, O>({
    config,
    host: workerHost(href, config),
    clock: systemClock,
    onEvent: options.onEvent,
    moduleName: href,
  });
}
