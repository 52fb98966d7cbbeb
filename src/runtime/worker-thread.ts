/**
 * @module Worker threads, the part that differs by runtime: start a thread on an entry module,
 * post to it, hear its messages, errors and exit, terminate it (the thread's own side is
 * `worker-port.ts`). Nothing here knows what the messages mean: the worker pool
 * (`src/operators/internal/worker-pool.ts`) and its scheduler are runtime-neutral.
 *
 * Runtime notes: Node 20 cannot load a TypeScript worker through `execArgv: ["--import", "tsx"]`
 * (tsx does not hook worker threads from there), so on Node a TypeScript worker is a tiny eval
 * stub that registers `tsx/esm/api` inside the thread and then imports the entry; that costs
 * ~150 ms per worker start. Bun and Deno load TypeScript natively. `maxMemoryMB`
 * (resourceLimits) is enforced by Node only. Deno 2.9's `terminate()` does not stop a worker
 * stuck in a busy loop (denoland/deno PR #35657).
 */
import { existsSync } from "node:fs";
import os from "node:os";
import { resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { runtimeName } from "./detect.ts";

export function availableCores(): number {
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}

/** A module given as a URL, a URL string or a path (relative to the working directory), as a URL string. */
export function moduleHref(module: URL | string): string {
  if (module instanceof URL) return module.href;
  if (/^[a-z][a-z0-9+.-]+:/i.test(module)) return new URL(module).href;
  return pathToFileURL(resolve(process.cwd(), module)).href;
}

/** The path of a `file:` URL that does not exist, or null (also for other schemes). */
export function missingFile(href: string): string | null {
  if (!href.startsWith("file:")) return null;
  const path = fileURLToPath(href);
  return existsSync(path) ? null : path;
}

export interface WorkerThreadOptions {
  /** The module the thread runs (a URL string). */
  entry: string;
  /** Structured-cloned to the thread, where `workerPort().data` returns it. */
  data: unknown;
  /** Old-generation heap limit (Node only). */
  maxMemoryMB?: number | null;
  /** The entry, or a module it imports, is TypeScript (Node then registers tsx in the thread). */
  typescript: boolean;
}

export interface WorkerThreadListener {
  message(message: unknown): void;
  /** The TypeScript loader could not start in the thread (the message says so). */
  loaderError(error: { name: string; message: string }): void;
  error(error: unknown): void;
  /** A message from the thread could not be deserialized. */
  messageError(error: unknown): void;
  exit(code: number): void;
}

export interface WorkerThread {
  post(message: unknown): void;
  /** Asks the runtime to stop the thread; `exit` follows. */
  terminate(): void;
}

/** Marks the one message the Node TypeScript stub sends when tsx fails in the thread. */
const LOADER_ERROR = "__sluiceWorkerLoaderError";

/** On Node a TypeScript entry or module needs tsx registered inside the worker thread. */
function nodeStub(entry: string): string {
  let api: string;
  try {
    api = import.meta.resolve("tsx/esm/api");
  } catch (error) {
    throw new Error(
      `TypeScript worker modules on Node need tsx, which could not be resolved: ${(error as Error).message}`,
    );
  }
  const report = `(e) => require("node:worker_threads").parentPort.postMessage({ ${LOADER_ERROR}: { name: String(e && e.name), message: "could not start the TypeScript loader (tsx): " + (e && e.message) } })`;
  return `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); }).catch(${report});`;
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

function isLoaderError(m: unknown): m is { [LOADER_ERROR]: { name: string; message: string } } {
  return typeof m === "object" && m !== null && LOADER_ERROR in m;
}

/** Starts a worker thread. Throws if the thread cannot be created (e.g. tsx missing on Node). */
export function startWorkerThread(
  options: WorkerThreadOptions,
  listener: WorkerThreadListener,
): WorkerThread {
  const base = {
    workerData: options.data,
    ...(options.maxMemoryMB ? { resourceLimits: { maxOldGenerationSizeMb: options.maxMemoryMB } } : {}),
  };
  const viaStub = runtimeName === "node" && options.typescript;
  const worker = viaStub
    ? new Worker(nodeStub(options.entry), { ...base, eval: true, execArgv: execArgvWithoutTsx() })
    : new Worker(new URL(options.entry), base);
  if (viaStub) {
    worker.on("message", (m: unknown) => {
      if (isLoaderError(m)) listener.loaderError(m[LOADER_ERROR]);
      else listener.message(m);
    });
  } else worker.on("message", (m: unknown) => listener.message(m));
  worker.on("error", (e) => listener.error(e));
  worker.on("messageerror", (e) => listener.messageError(e));
  worker.on("exit", (code) => listener.exit(code));
  return {
    post: (message) => worker.postMessage(message),
    terminate: () => void worker.terminate().catch(() => undefined),
  };
}
