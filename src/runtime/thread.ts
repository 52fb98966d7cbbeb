/**
 * @module One long-lived worker thread running a module, with a message
 * channel both ways (`node:worker_threads`, which Node, Bun and Deno
 * provide). The HTTP server runs in one so that requests are answered while
 * the pipeline holds the main event loop. On Node a TypeScript entry needs
 * tsx registered inside the thread (as in `worker-thread.ts`); compiled `.js`
 * entries and Bun/Deno load directly.
 */
import process from "node:process";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { runtimeName } from "./detect.ts";

export interface Thread {
  post(message: unknown): void;
  onMessage(fn: (message: unknown) => void): void;
  /** Called once when the thread exits, with its error if it failed. */
  onExit(fn: (code: number, error?: Error) => void): void;
  terminate(): Promise<void>;
}

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

/** Starts `module` in a worker thread with `data` as its `threadData()`. */
export function startThread(module: URL, data: unknown): Thread {
  const ts = /\.[cm]?tsx?$/.test(module.pathname);
  let worker: Worker;
  if (runtimeName === "node" && ts) {
    const api = import.meta.resolve("tsx/esm/api");
    const stub = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(module.href)}); }).catch((e) => { console.error(e); process.exit(70); });`;
    worker = new Worker(stub, { eval: true, workerData: data, execArgv: execArgvWithoutTsx() });
  } else {
    worker = new Worker(module, { workerData: data });
  }
  let error: Error | undefined;
  worker.on("error", (e) => {
    error ??= e instanceof Error ? e : new Error(String(e));
  });
  return {
    post: (m) => worker.postMessage(m),
    onMessage: (fn) => {
      worker.on("message", fn);
    },
    onExit: (fn) => {
      worker.once("exit", (code) => fn(code, error));
    },
    terminate: async () => {
      await worker.terminate();
    },
  };
}

/** Inside a thread started by `startThread`: its data and the channel to the parent. */
export function threadChannel():
  | { data: unknown; post(message: unknown): void; onMessage(fn: (message: unknown) => void): void }
  | undefined {
  if (isMainThread || !parentPort) return undefined;
  const port = parentPort;
  return {
    data: workerData,
    post: (m) => port.postMessage(m),
    onMessage: (fn) => {
      port.on("message", fn);
    },
  };
}
