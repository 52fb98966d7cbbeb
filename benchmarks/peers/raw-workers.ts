/**
 * @module Peer: a raw worker_threads pool with pipelined batched messages (no library). Each
 * worker gets up to `depth` batches in flight so it never waits on a round trip; batches go to
 * the worker with the fewest in flight. No retries, timeouts or crash handling: it is the cost floor.
 */
import { Worker } from "node:worker_threads";
import { peerWorkerUrl } from "./pool-worker-entry.ts";

export interface RawPool {
  run(records: unknown[], batch: number, spinMs?: number): Promise<unknown[]>;
  close(): Promise<void>;
}

export async function createRawPool(workers: number, depth = 2): Promise<RawPool> {
  const url = peerWorkerUrl("raw-worker");
  const pool = Array.from({ length: workers }, () => ({
    worker: new Worker(url),
    inFlight: 0,
  }));
  const pending = new Map<number, (values: unknown[]) => void>();
  const waiting: Array<() => void> = [];
  let nextId = 0;
  for (const slot of pool) {
    slot.worker.on("message", (msg: { id: number; values: unknown[] }) => {
      slot.inFlight--;
      pending.get(msg.id)!(msg.values);
      pending.delete(msg.id);
      waiting.shift()?.();
    });
  }
  const send = async (records: unknown[], spinMs: number): Promise<unknown[]> => {
    for (;;) {
      let best = pool[0]!;
      for (const slot of pool) if (slot.inFlight < best.inFlight) best = slot;
      if (best.inFlight < depth) {
        best.inFlight++;
        const id = nextId++;
        return new Promise((resolve) => {
          pending.set(id, resolve);
          best.worker.postMessage({ id, records, spinMs });
        });
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };
  return {
    async run(records, batch, spinMs = 0) {
      const parts: Promise<unknown[]>[] = [];
      for (let i = 0; i < records.length; i += batch) parts.push(send(records.slice(i, i + batch), spinMs));
      return (await Promise.all(parts)).flat();
    },
    async close() {
      await Promise.all(pool.map((s) => s.worker.terminate()));
    },
  };
}
