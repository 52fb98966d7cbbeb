/**
 * @module The worker module of the `cpu-parallel` scenario: the same record
 * function as `benchmarks/peers/pool-workers/score.ts` (busy work for the
 * record's `spinMs`), as a default export for `parallelMap`.
 */
export default function score(record: { id: number; amount: number; spinMs?: number }): {
  id: number;
  score: number;
} {
  let acc = record.amount;
  const ms = record.spinMs ?? 0;
  if (ms > 0) {
    const end = performance.now() + ms;
    while (performance.now() < end) acc = (acc * 1.000001 + 1) % 1e9;
  }
  return { id: record.id, score: acc * 2 };
}
