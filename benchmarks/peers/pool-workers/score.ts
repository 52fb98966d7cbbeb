/**
 * @module The benchmark's record function, shared by every pool under test: trivial when
 * `spinMs` is 0, otherwise a CPU-bound busy loop of about `spinMs` milliseconds per record.
 */
export interface BenchRecord {
  id: number;
  user: string;
  amount: number;
  spinMs?: number;
}

export function score(record: unknown, spinMs = 0): { id: number; score: number } | number {
  if (typeof record === "number") return record * 2;
  const r = record as BenchRecord;
  let acc = r.amount;
  const ms = r.spinMs ?? spinMs;
  if (ms > 0) {
    const end = performance.now() + ms;
    while (performance.now() < end) acc = (acc * 1.000001 + 1) % 1e9;
  }
  return { id: r.id, score: acc * 2 };
}

export default function scoreRecord(record: unknown): { id: number; score: number } | number {
  return score(record);
}
