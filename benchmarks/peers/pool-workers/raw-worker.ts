/**
 * @module The raw worker_threads peer: no pool library, one port, batches pipelined by the parent.
 * This is the floor the sluice pool is measured against ("within 3x of raw batched workers").
 */
import { parentPort } from "node:worker_threads";
import scoreBatch from "./score-batch.ts";

parentPort!.on("message", (msg: { id: number; records: unknown[]; spinMs: number }) => {
  parentPort!.postMessage({ id: msg.id, values: scoreBatch(msg) });
});
