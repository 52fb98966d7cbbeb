// Worker module for the parallel conformance pipeline: a deterministic CPU-bound score.
export default function score(o: { id: number; user: string; cents: number }): { id: number; score: number } {
  let h = o.id;
  for (let i = 0; i < 200; i++) h = (Math.imul(h ^ (h >>> 13), 0x5bd1e995) + o.cents + i) >>> 0;
  if (o.user === "ken" && o.id % 13 === 0) throw new Error(`cannot score order ${o.id}`);
  return { id: o.id, score: h % 1000 };
}
