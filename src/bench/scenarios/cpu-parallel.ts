/**
 * @module Built-in scenario `cpu-parallel`: CPU-bound records (50 µs of busy
 * work each) through `parallelMap` on 2 worker threads, then a count. Peers:
 * the same function inline on one thread, on a raw `worker_threads` pool
 * and on piscina — the pools of `benchmarks/parallel-map.bench.ts`,
 * unchanged. Reported as skipped if `parallelMap` is not exported by
 * `sluice/operators` (it was built alongside this scenario).
 */
import { aggregate } from "../../operators/aggregate.ts";
import { ConfigError } from "../../pipeline/errors.ts";
import { pipeline } from "../../pipeline/pipeline.ts";
import type { Operator } from "../../pipeline/types.ts";
import { fs, paths } from "../../runtime/fs.ts";
import { ndjson } from "../../sinks/ndjson.ts";
import { iterable } from "../../sources/iterable.ts";
import { scenario } from "../scenario.ts";
import { type CpuData, type CpuRecord, cpuDigest, cpuRecords, SPIN_MS, WORKERS } from "./cpu-data.ts";
import { repoPeer } from "./repo-peer.ts";

type ParallelMap = (
  module: URL,
  options: { workers?: number | "auto"; ordered?: boolean },
) => Operator<CpuRecord, { id: number; score: number }>;

/** `parallelMap` from the operators, once it is there. */
async function findParallelMap(): Promise<ParallelMap | undefined> {
  const ops = (await import("../../operators/index.ts")) as Record<string, unknown>;
  return typeof ops.parallelMap === "function" ? (ops.parallelMap as ParallelMap) : undefined;
}

const workerModule = new URL(
  import.meta.url.endsWith(".ts") ? "./cpu-score.ts" : "./cpu-score.js",
  import.meta.url,
);

export default scenario<CpuData>({
  name: "cpu-parallel",
  description: `CPU-bound records (${SPIN_MS * 1000} µs of work each) → parallelMap on ${WORKERS} workers → count`,
  sizes: { tiny: 2_000, small: 40_000, full: 200_000 },
  generate: (ctx) => ({ rows: ctx.rows, seed: ctx.seed, spinMs: SPIN_MS, workers: WORKERS }),
  async pipeline(d, ctx) {
    const parallelMap = await findParallelMap();
    if (!parallelMap) throw new ConfigError("cpu-parallel: parallelMap is not exported by sluice/operators");
    return pipeline("bench-cpu-parallel")
      .from(iterable(() => cpuRecords(d), { chunkSize: 1000 }))
      .via(
        parallelMap(workerModule, { workers: d.workers, ordered: true }),
        aggregate({ aggregate: { n: "count", ids: ["sum", "id"] } }),
      )
      .to(ndjson(paths.join(ctx.outDir, "count.ndjson")));
  },
  measure: {
    async outcome(summary, _d, ctx) {
      const [line] = (await fs.readText(paths.join(ctx.outDir, "count.ndjson"))).split("\n");
      const r = JSON.parse(line) as { n: number; ids: number };
      return { rowsIn: summary.rowsIn, rowsOut: r.n, digest: cpuDigest(r.n, r.ids) };
    },
    check: (o, d) => (o.rowsOut === d.rows ? undefined : `scored ${o.rowsOut} records, expected ${d.rows}`),
  },
  peers: {
    inline: repoPeer("cpu-pools.ts", "inline"),
    "raw-workers": repoPeer("cpu-pools.ts", "rawWorkers"),
    piscina: repoPeer("cpu-pools.ts", "piscina"),
  },
  async unavailable() {
    return (await findParallelMap()) ? undefined : "parallelMap is not exported by sluice/operators";
  },
});
