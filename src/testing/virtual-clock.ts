/**
 * @module A virtual clock for tests: time moves only when `advance` is called,
 * and timers fire in order of their due time. Mirrors Effect's `TestClock` for
 * code that takes a plain `Clock`.
 */
import type { Clock } from "../runtime/clock.ts";

interface Timer {
  due: number;
  seq: number;
  fire: () => void;
  period?: number;
  cancelled: boolean;
}

/** A `Clock` whose time only moves when told to. */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        timer.cancelled = true;
        reject(signal?.reason);
      };
      const timer = this.#schedule(ms, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  every(ms: number, fn: () => void): () => void {
    const timer = this.#schedule(ms, fn, ms);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Number of timers still waiting. */
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due in order and
   * letting promise callbacks run between timers.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flushMicrotasks();
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      this.#timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
      const next = this.#timers[0];
      if (!next || next.due > target) break;
      this.#timers.shift();
      this.#now = next.due;
      if (next.period !== undefined) {
        next.due += next.period;
        next.seq = this.#seq++;
        this.#timers.push(next);
      }
      next.fire();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  #schedule(ms: number, fire: () => void, period?: number): Timer {
    const timer: Timer = {
      due: this.#now + Math.max(0, ms),
      seq: this.#seq++,
      fire,
      period,
      cancelled: false,
    };
    this.#timers.push(timer);
    return timer;
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
