/**
 * @module Peer: piscina 5 running the same batch function (one piscina task per batch), so the
 * benchmark compares per-record overhead on equal work. Piscina is the library DESIGN.md §5 asks
 * us to prefer if it meets the target.
 */
import { Piscina } from "piscina";
import { peerWorkerUrl } from "./pool-worker-entry.ts";

export interface PiscinaPeer {
  run(records: unknown[], batch: number, spinMs?: number): Promise<unknown[]>;
  close(): Promise<void>;
}

export function createPiscinaPool(workers: number): PiscinaPeer {
  const pool = new Piscina({
    filename: peerWorkerUrl("score-batch").href,
    minThreads: workers,
    maxThreads: workers,
  });
  return {
    async run(records, batch, spinMs = 0) {
      const parts: Promise<unknown[]>[] = [];
      for (let i = 0; i < records.length; i += batch) {
        parts.push(pool.run({ records: records.slice(i, i + batch), spinMs }));
      }
      return (await Promise.all(parts)).flat();
    },
    async close() {
      await pool.destroy();
    },
  };
}
