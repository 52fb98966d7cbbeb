/**
 * @module Peers of the `cpu-parallel` scenario: the record function inline on
 * the main thread, and the raw `worker_threads` pool and piscina pool of
 * `benchmarks/parallel-map.bench.ts` (unchanged), 1024 records a message.
 */
import type { Outcome } from "../../src/bench/scenario.ts";
import { type CpuData, cpuDigest, cpuRecords } from "../../src/bench/scenarios/cpu-data.ts";
import { createPiscinaPool } from "./piscina-pool.ts";
import { score } from "./pool-workers/score.ts";
import { createRawPool } from "./raw-workers.ts";

function outcome(d: CpuData, results: unknown[]): Outcome {
  let ids = 0;
  for (const r of results) ids += (r as { id: number }).id;
  return { rowsIn: d.rows, rowsOut: results.length, digest: cpuDigest(results.length, ids) };
}

export async function inline(d: CpuData): Promise<Outcome> {
  const records = cpuRecords(d);
  return outcome(
    d,
    records.map((r) => score(r)),
  );
}

export async function rawWorkers(d: CpuData): Promise<Outcome> {
  const pool = await createRawPool(d.workers);
  try {
    return outcome(d, await pool.run(cpuRecords(d), 1024));
  } finally {
    await pool.close();
  }
}

export async function piscina(d: CpuData): Promise<Outcome> {
  const pool = createPiscinaPool(d.workers);
  try {
    return outcome(d, await pool.run(cpuRecords(d), 1024));
  } finally {
    await pool.close();
  }
}
