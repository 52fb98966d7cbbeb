/**
 * @module Built-in scenario `engine-overhead`: map → filter → sum over numbers
 * held in memory, with deliberately cheap functions, so the figure is what
 * each engine adds around them (the workload of
 * `benchmarks/engine-overhead.bench.ts`, whose peers run unchanged: a plain
 * batched loop, an async generator of arrays, RxJS, Effect Stream per
 * element and batched, Node object streams).
 */
import { filter } from "../../operators/filter.ts";
import { map } from "../../operators/map.ts";
import { pipeline } from "../../pipeline/pipeline.ts";
import { type Sink, SinkTypeId } from "../../pipeline/types.ts";
import { iterable } from "../../sources/iterable.ts";
import { digestOf, scenario } from "../scenario.ts";
import { repoPeer } from "./repo-peer.ts";

/** The same two functions as `benchmarks/peers/overhead-work.ts`. */
const double1 = (n: number): number => n * 2 + 1;
const byThree = (n: number): boolean => n % 3 === 0;

/** The sum a correct implementation reaches over 0..rows-1. */
export function overheadSum(rows: number): number {
  let s = 0;
  for (let i = 0; i < rows; i++) {
    const m = i * 2 + 1;
    if (m % 3 === 0) s += m;
  }
  return s;
}

let sum = 0;

/** A sink that sums what it gets (no output file: the engine is what is measured). */
function summing(): Sink<number> {
  return {
    [SinkTypeId]: true,
    name: "sum()",
    delivery: "at-least-once",
    async open() {
      return {
        write(chunk) {
          const r = chunk.records;
          for (let i = 0; i < r.length; i++) sum += r[i];
        },
        commit: (id: number) => id,
        async close() {},
      };
    },
  };
}

export default scenario<{ rows: number }>({
  name: "engine-overhead",
  description: "numbers in memory → map → filter → sum: what the engine adds around cheap functions",
  sizes: { tiny: 20_000, small: 2_000_000, full: 10_000_000 },
  generate: ({ rows }) => ({ rows }),
  pipeline(d) {
    const data = Array.from({ length: d.rows }, (_, i) => i);
    return pipeline("bench-engine-overhead")
      .from(iterable(data, { chunkSize: 1000 }))
      .via(map(double1), filter(byThree))
      .to(summing());
  },
  measure: {
    outcome: (summary) => ({ rowsIn: summary.rowsIn, rowsOut: summary.rowsOut, digest: digestOf({ sum }) }),
    check: (o, d) => (o.rowsIn === d.rows ? undefined : `read ${o.rowsIn} numbers, expected ${d.rows}`),
  },
  peers: {
    "plain-loop": repoPeer("overhead-scenario.ts", "plainLoop"),
    "async-generator": repoPeer("overhead-scenario.ts", "asyncGenerator"),
    rxjs: repoPeer("overhead-scenario.ts", "rxjs"),
    "effect-stream": repoPeer("overhead-scenario.ts", "effectStream"),
    "effect-stream-batched": repoPeer("overhead-scenario.ts", "effectStreamBatched"),
    "node-streams": repoPeer("overhead-scenario.ts", "nodeStreams"),
  },
});
