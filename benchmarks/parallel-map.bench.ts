/**
 * @module Benchmark for the worker pool behind `parallelMap`, against its peers in the same run:
 * (1) per-record overhead of a trivial function through the sluice pool (default "auto" batching),
 * piscina 5 and a raw pipelined worker_threads pool (both given 1024 records per message, their
 * best setting), on the same records; (2) speedup of 2 and 4 workers over 1 for a ~1 ms CPU-bound
 * function. Figures are ratios within one run, so they compare across machines and runtimes.
 *
 *   node --import tsx benchmarks/parallel-map.bench.ts     bun benchmarks/parallel-map.bench.ts
 *   deno run -A benchmarks/parallel-map.bench.ts           add --quick for a smaller run
 */
import process from "node:process";
import { runtimeName } from "../src/runtime/detect.ts";
import { createWorkerPool } from "../src/runtime/worker-pool.ts";
import { createPiscinaPool } from "./peers/piscina-pool.ts";
import { score } from "./peers/pool-workers/score.ts";
import { createRawPool } from "./peers/raw-workers.ts";

const quick = process.argv.includes("--quick");
const N = quick ? 50_000 : 200_000;
const CHUNK = 10_000;
const IN_FLIGHT = 4;
const REPS = quick ? 3 : 5;
const CPU_RECORDS = quick ? 200 : 400;
const workerModule = new URL("./peers/pool-workers/score.ts", import.meta.url);

const records = Array.from({ length: N }, (_, i) => ({ id: i, user: `u${i % 1000}`, amount: i % 97 }));

/** Feeds chunks with a bounded number in flight, as the operator does. */
async function feed(run: (chunk: unknown[]) => Promise<unknown>, all: unknown[]): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < all.length; i += CHUNK) {
    const p: Promise<unknown> = run(all.slice(i, i + CHUNK)).then(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

/** Median µs per record over REPS runs, after one warm-up run. */
async function perRecord(
  run: (chunk: unknown[]) => Promise<unknown>,
  all: unknown[] = records,
): Promise<number> {
  await feed(run, all);
  const times: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t = performance.now();
    await feed(run, all);
    times.push(((performance.now() - t) * 1000) / all.length);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

async function overhead(workers: number): Promise<Record<string, number>> {
  const inline = await perRecord(async (chunk) => chunk.map((r) => score(r)));
  const sluice = createWorkerPool({ module: workerModule, workers });
  await sluice.start();
  const ours = await perRecord((chunk) => sluice.run(chunk));
  const batchSize = sluice.stats().batchSize;
  await sluice.close();
  const raw = await createRawPool(workers);
  const rawUs = await perRecord((chunk) => raw.run(chunk, 1024));
  await raw.close();
  const piscina = createPiscinaPool(workers);
  const pisUs = await perRecord((chunk) => piscina.run(chunk, 1024));
  await piscina.close();
  return { workers, inline, sluice: ours, raw: rawUs, piscina: pisUs, batchSize };
}

async function speedup(): Promise<Record<string, number>> {
  const cpu = Array.from({ length: CPU_RECORDS }, (_, i) => ({ id: i, user: "u", amount: i, spinMs: 1 }));
  const out: Record<string, number> = {};
  for (const workers of [1, 2, 4]) {
    const pool = createWorkerPool({ module: workerModule, workers });
    await pool.start();
    await pool.run(cpu.slice(0, 20));
    const t = performance.now();
    await pool.run(cpu);
    out[`w${workers}`] = performance.now() - t;
    await pool.close();
  }
  return out;
}

const fmt = (x: number, d = 2): string => x.toFixed(d);
const lines: string[] = [
  `parallel-map bench on ${runtimeName} (${N} records, chunks of ${CHUNK}, ${IN_FLIGHT} in flight)`,
];
const results: Record<string, unknown> = { runtime: runtimeName };
for (const workers of [1, 2]) {
  const o = await overhead(workers);
  results[`overhead_w${workers}`] = o;
  lines.push(
    `  ${workers} worker(s): sluice ${fmt(o.sluice, 3)} µs/rec (batch ${o.batchSize}), raw ${fmt(o.raw, 3)}, piscina ${fmt(o.piscina, 3)}, inline ${fmt(o.inline, 3)}` +
      ` | sluice/raw ${fmt(o.sluice / o.raw)}×, sluice/piscina ${fmt(o.sluice / o.piscina)}×`,
  );
}
const s = await speedup();
results.speedup = s;
lines.push(
  `  CPU-bound ${CPU_RECORDS} × 1 ms: 1 worker ${fmt(s.w1, 0)} ms; speedup 2 workers ${fmt(s.w1 / s.w2)}×, 4 workers ${fmt(s.w1 / s.w4)}×`,
);
console.log(lines.join("\n"));
console.log(JSON.stringify(results));
process.exit(0);
