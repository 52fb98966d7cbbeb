/**
 * @module Inside a worker thread started by `worker-thread.ts`: its start data and its port to
 * the parent. Only `node:worker_threads` (which Node, Bun and Deno all provide), so a worker
 * starts fast.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";

/** Inside a worker thread: its start data and its port to the parent. */
export interface WorkerPort {
  readonly data: unknown;
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
}

/** The current thread's port; throws on the main thread. */
export function workerPort(): WorkerPort {
  if (isMainThread || !parentPort) throw new Error("workerPort() is only available inside a worker thread");
  const port = parentPort;
  return {
    data: workerData,
    post: (message) => port.postMessage(message),
    onMessage: (listener) => void port.on("message", listener),
  };
}
