/**
 * @module The worker pool behind `parallelMap`: the `node:worker_threads` half (spawn, post,
 * terminate, progress memory, TypeScript loading, cores, clock). Every decision (priorities,
 * batching, blame, retries, timeouts, heartbeats, scaling) lives in the runtime-neutral
 * `src/operators/internal/pool-scheduler.ts`, which this file feeds with a host and a clock.
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
 *
 * Runtime notes: Node 20 cannot load a TypeScript worker through `execArgv: ["--import", "tsx"]`
 * (tsx does not hook worker threads from there), so on Node the worker is a tiny eval stub that
 * registers `tsx/esm/api` inside the thread and then imports the bootstrap; that costs ~150 ms
 * per worker start. Bun and Deno load TypeScript natively. `maxMemoryMB` (resourceLimits) is
 * enforced by Node only. Deno 2.9's `terminate()` does not stop a worker stuck in a busy loop
 * (denoland/deno PR #35657): the pool replaces it and goes on, but that thread spins until exit.
 */
import { existsSync } from "node:fs";
import os from "node:os";
import { resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import {
  type PoolConfig,
  type PoolConfigInput,
  resolvePoolConfig,
} from "../operators/internal/pool-config.ts";
import type {
  FromWorker,
  PoolHost,
  SerializedError,
  WorkerPool,
} from "../operators/internal/pool-protocol.ts";
import { createPoolScheduler } from "../operators/internal/pool-scheduler.ts";
import { systemClock } from "./clock.ts";
import { runtimeName } from "./detect.ts";

export type { PoolConfigInput } from "../operators/internal/pool-config.ts";
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
} from "../operators/internal/pool-protocol.ts";

export interface WorkerPoolOptions extends PoolConfigInput {
  /** The module whose default export runs on the workers: a URL or a path (relative to cwd). */
  module: URL | string;
}

const bootstrapUrl = new URL(
  import.meta.url.endsWith(".ts") ? "./worker-bootstrap.ts" : "./worker-bootstrap.js",
  import.meta.url,
).href;

export function availableCores(): number {
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}

function moduleHref(module: URL | string): string {
  if (module instanceof URL) return module.href;
  if (/^[a-z][a-z0-9+.-]+:/i.test(module)) return new URL(module).href;
  return pathToFileURL(resolve(process.cwd(), module)).href;
}

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

/** On Node a TypeScript bootstrap or module needs tsx registered inside the worker thread. */
function nodeStub(): string {
  let api: string;
  try {
    api = import.meta.resolve("tsx/esm/api");
  } catch (error) {
    throw new Error(
      `TypeScript worker modules on Node need tsx, which could not be resolved: ${(error as Error).message}`,
    );
  }
  const report = `(e) => require("node:worker_threads").parentPort.postMessage({ t: "init-error", error: { name: String(e && e.name), message: "could not start the TypeScript loader (tsx): " + (e && e.message) } })`;
  return `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(bootstrapUrl)}); }).catch(${report});`;
}

/** The parent's flags minus its own tsx preload, which would load tsx a second time for nothing. */
function execArgvWithoutTsx(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const pair = /^--(import|loader|experimental-loader|require)$/.test(flag) || flag === "-r";
    const value = pair ? args[i + 1] : flag;
    if (/(^|[/\\=])tsx([/\\]|$)/.test(value ?? "")) {
      if (pair) i++;
      continue;
    }
    out.push(flag);
  }
  return out;
}

function workerHost(href: string, config: PoolConfig): PoolHost {
  let checked = false;
  const needsTsx =
    runtimeName === "node" && (/\.[cm]?tsx?$/.test(new URL(href).pathname) || bootstrapUrl.endsWith(".ts"));
  return {
    spawn(_workerId, listener) {
      if (!checked && href.startsWith("file:")) {
        const path = fileURLToPath(href);
        if (!existsSync(path)) {
          throw new Error(
            `file not found: ${path} (new URL("./score.ts", import.meta.url) resolves next to the calling file)`,
          );
        }
      }
      checked = true;
      const sab = typeof SharedArrayBuffer === "function" ? new SharedArrayBuffer(8) : null;
      const progress = sab ? new Int32Array(sab) : null;
      const options = {
        workerData: { moduleUrl: href, mode: config.mode, progress: sab },
        ...(config.maxMemoryMB ? { resourceLimits: { maxOldGenerationSizeMb: config.maxMemoryMB } } : {}),
      };
      const worker = needsTsx
        ? new Worker(nodeStub(), { ...options, eval: true, execArgv: execArgvWithoutTsx() })
        : new Worker(new URL(bootstrapUrl), options);
      let error: SerializedError | null = null;
      let exited = false;
      const stop = (): void => void worker.terminate().catch(() => undefined);
      worker.on("message", (m: FromWorker) => listener.message(m));
      worker.on("error", (e) => {
        error ??= serializeError(e);
        stop();
      });
      worker.on("messageerror", (e) => {
        error ??= { ...serializeError(e), code: "ERR_WORKER_MESSAGE" };
        stop();
      });
      worker.on("exit", (code) => {
        if (exited) return;
        exited = true;
        listener.exit(code, error);
      });
      return {
        post: (message) => worker.postMessage(message),
        progress() {
          if (!progress) return null;
          for (;;) {
            const seq = Atomics.load(progress, 0);
            const index = Atomics.load(progress, 1);
            if (Atomics.load(progress, 0) === seq) return { seq, index };
          }
        },
        terminate: stop,
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
