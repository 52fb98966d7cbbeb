/**
 * @module The CPU-bound workload of the `cpu-parallel` scenario, shared with
 * its peers: records that each ask for `spinMs` of busy work (the record
 * function of `benchmarks/parallel-map.bench.ts`, so its pool peers run
 * unchanged), and the digest of the results (count and sum of ids: the
 * scores depend on how many loop turns fit in the time, so they are not
 * compared).
 */
import { prng } from "../../testing/generate.ts";
import { digestOf } from "../scenario.ts";

export interface CpuRecord {
  readonly id: number;
  readonly user: string;
  readonly amount: number;
  readonly spinMs: number;
}

export interface CpuData {
  readonly rows: number;
  readonly seed: number;
  readonly spinMs: number;
  readonly workers: number;
}

/** Busy work per record (ms). */
export const SPIN_MS = 0.05;
/** Workers for every pool (sluice's and the peers'). */
export const WORKERS = 2;

export function cpuRecords(d: CpuData): CpuRecord[] {
  const rand = prng(d.seed);
  return Array.from({ length: d.rows }, (_, i) => ({
    id: i + 1,
    user: `u${Math.floor(rand() * 1000)}`,
    amount: Math.floor(rand() * 10_000) / 100,
    spinMs: d.spinMs,
  }));
}

/** Digest of `{ n, ids }` (count and sum of ids of the results). */
export function cpuDigest(n: number, ids: number): string {
  return digestOf({ n, ids });
}
