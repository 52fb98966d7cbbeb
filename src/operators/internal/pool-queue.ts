/**
 * @module The pool's waiting room: three priority queues of record ranges ("segments") from
 * which the scheduler cuts batches of any size at dispatch time. Cutting late (not when a run
 * arrives) lets the batch size follow the measured record cost and the number of free workers.
 * Strict priority, except a waiting lower queue is served after being passed over 8 times.
 */
import type { Priority, RecordFailure, RunResult } from "./pool-protocol.ts";

export interface Job {
  records: readonly unknown[];
  values: unknown[];
  failures: RecordFailure[];
  /** Records not yet settled (succeeded or failed for good). */
  pending: number;
  resolve(result: RunResult): void;
  reject(error: Error): void;
}

/** Records of one job: contiguous from `start` (`idx` null) or scattered (retries, per-record priority). */
export interface Segment {
  job: Job;
  start: number;
  count: number;
  idx: number[] | null;
  /** Attempts every record in it has already used. */
  attempts: number;
  priority: Priority;
  /** Set when sent to a worker: that worker's batch number. */
  seq: number;
}

export const PRIORITIES: readonly Priority[] = ["high", "normal", "low"];
const STARVATION_LIMIT = 8;

export const jobIndex = (s: Segment, i: number): number => (s.idx ? s.idx[i] : s.start + i);

/** Records `[from, to)` of a segment as a new segment. */
export function slice(s: Segment, from: number, to: number): Segment {
  const idx = s.idx ? s.idx.slice(from, to) : null;
  return { ...s, start: s.idx ? 0 : s.start + from, count: to - from, idx, seq: 0 };
}

/** The records of a segment, without copying when it is a whole job. */
export function recordsOf(s: Segment): readonly unknown[] {
  const all = s.job.records;
  if (s.idx) return s.idx.map((i) => all[i]);
  return s.start === 0 && s.count === all.length ? all : all.slice(s.start, s.start + s.count);
}

export class PriorityQueues {
  readonly counts: Record<Priority, number> = { high: 0, normal: 0, low: 0 };
  #queues: Record<Priority, Segment[]> = { high: [], normal: [], low: [] };
  #starved: Record<Priority, number> = { high: 0, normal: 0, low: 0 };

  get size(): number {
    return this.counts.high + this.counts.normal + this.counts.low;
  }

  push(s: Segment): void {
    this.#queues[s.priority].push(s);
    this.counts[s.priority] += s.count;
  }

  /** Puts segments back at the head of their queues, in order (work that was interrupted). */
  pushFront(segments: Segment[]): void {
    for (let k = segments.length - 1; k >= 0; k--) {
      const s = segments[k];
      if (s.count === 0) continue;
      this.#queues[s.priority].unshift(s);
      this.counts[s.priority] += s.count;
    }
  }

  /** Cuts up to `size` records from the head of the queue to serve next. */
  take(size: number): Segment | null {
    const p = this.#pick();
    if (p === null) return null;
    const q = this.#queues[p];
    const head = q[0];
    if (head.count <= size) {
      q.shift();
      this.counts[p] -= head.count;
      return head;
    }
    q[0] = slice(head, size, head.count);
    this.counts[p] -= size;
    return slice(head, 0, size);
  }

  clear(): void {
    for (const p of PRIORITIES) {
      this.#queues[p] = [];
      this.counts[p] = 0;
    }
  }

  #pick(): Priority | null {
    let top: Priority | null = null;
    for (const p of PRIORITIES) {
      if (this.#queues[p].length === 0) continue;
      if (top === null) top = p;
      else if (++this.#starved[p] > STARVATION_LIMIT) {
        this.#starved[p] = 0;
        return p;
      }
    }
    return top;
  }
}
