/**
 * @module The redelivery waits of a job's consumer, shared by `queue.ts` (which sets them on the
 * server) and the coordinator (which must know when every delivery's wait has passed). Kept
 * apart from `queue.ts` so the coordinator does not load the JetStream client statically.
 */

/** The redelivery waits: `ackWait`, doubling, at most 4×; one fewer than `maxDeliver`. */
export function backoffMs(ackWaitMs: number, maxDeliver: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < maxDeliver - 1; i++) out.push(ackWaitMs * Math.min(4, 2 ** i));
  return out;
}
