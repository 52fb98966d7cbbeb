// The cluster benchmark's worker module: a deterministic result from about
// $CLUSTER_BENCH_WORK_US µs of CPU per record (default 1000; 0 = only the hash), the same cost
// loop as the cluster test fixture, so a local thread and a remote worker do identical work.
import process from "node:process";

const workUs = Number(process.env.CLUSTER_BENCH_WORK_US ?? 1000);

export default function work(r: { id: string; amount: string }): { id: number; h: number } {
  const id = Number(r.id);
  let h = id;
  const until = performance.now() + workUs / 1000;
  do h = (Math.imul(h ^ (h >>> 13), 0x5bd1e995) + 7) >>> 0;
  while (performance.now() < until);
  let out = id;
  for (let i = 0; i < 50; i++) out = (Math.imul(out ^ (out >>> 13), 0x5bd1e995) + Number(r.amount)) >>> 0;
  return { id, h: out % 100_000 };
}
