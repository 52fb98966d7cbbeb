/**
 * @module The injected clock. Every piece of code that waits, measures or
 * timestamps takes a `Clock`, so retries, TTLs, windows and breakers run on
 * virtual time in tests (see `VirtualClock` in `sluice/testing`).
 */

/** Time as the engine sees it. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (event timestamps). */
  now(): number;
  /** Monotonic milliseconds with sub-millisecond precision (durations). */
  monotonic(): number;
  /** Resolves after `ms`; rejects with the signal's reason if aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}

/** The real clock: `Date.now`, `performance.now` and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    }),
  every: (ms, fn) => {
    const timer = setInterval(fn, ms);
    // Never keep a process alive just for a periodic tick.
    (timer as { unref?: () => void }).unref?.();
    return () => clearInterval(timer);
  },
};
