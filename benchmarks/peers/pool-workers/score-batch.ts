/**
 * @module Batch worker function for the peer pools (piscina, raw worker_threads): maps the
 * benchmark's record function over one array, so peers and sluice do the same work per message.
 */
import { score } from "./score.ts";

export default function scoreBatch(batch: { records: unknown[]; spinMs: number }): unknown[] {
  const out = new Array(batch.records.length);
  for (let i = 0; i < batch.records.length; i++) out[i] = score(batch.records[i], batch.spinMs);
  return out;
}
