/**
 * @module The small state machines behind the recovery operators: backoff
 * delays, a time-bucketed sliding window of outcomes, a token bucket and a
 * semaphore with a bounded queue. None reads a clock or a random source
 * itself: callers pass the injected clock's time and the injected random
 * function, so every one of them runs on virtual time in tests.
 */

export interface BackoffOptions {
  readonly backoff: "exponential" | "fixed";
  /** First delay (ms). */
  readonly base: number;
  /** Upper bound of a delay (ms). */
  readonly max: number;
  /** Fraction of the delay taken off at random: 0 none, 1 "full jitter". */
  readonly jitter: number;
}

/** Delay before retry number `retry` (1 = the first retry). */
export function backoffDelay(retry: number, o: BackoffOptions, random: () => number): number {
  const d = o.backoff === "fixed" ? o.base : o.base * 2 ** (retry - 1);
  const capped = Math.min(o.max, d);
  return Math.round(capped * (1 - o.jitter * random()));
}

/** Successes and failures over the last `windowMs`, in `buckets` slots. */
export class SlidingWindow {
  readonly #width: number;
  readonly #ok: number[];
  readonly #fail: number[];
  #slot = -1;

  constructor(windowMs: number, buckets = 10) {
    this.#width = Math.max(1, windowMs / buckets);
    this.#ok = new Array(buckets).fill(0);
    this.#fail = new Array(buckets).fill(0);
  }

  add(ok: number, failed: number, now: number): void {
    const i = this.#advance(now);
    this.#ok[i] += ok;
    this.#fail[i] += failed;
  }

  /** Calls and failure rate over the window ending at `now`. */
  rate(now: number): { calls: number; failureRate: number } {
    this.#advance(now);
    let ok = 0;
    let failed = 0;
    for (let i = 0; i < this.#ok.length; i++) {
      ok += this.#ok[i];
      failed += this.#fail[i];
    }
    const calls = ok + failed;
    return { calls, failureRate: calls ? failed / calls : 0 };
  }

  reset(): void {
    this.#ok.fill(0);
    this.#fail.fill(0);
  }

  #advance(now: number): number {
    const slot = Math.floor(now / this.#width);
    const n = this.#ok.length;
    if (this.#slot < 0) this.#slot = slot;
    // Clear the slots that went out of the window since the last call.
    for (let s = this.#slot + 1; s <= slot && s <= this.#slot + n; s++) {
      this.#ok[s % n] = 0;
      this.#fail[s % n] = 0;
    }
    if (slot > this.#slot) this.#slot = slot;
    return this.#slot % n;
  }
}

/** A token bucket: `ratePerMs` tokens a millisecond, at most `burst` stored. */
export class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(
    readonly ratePerMs: number,
    readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes up to `n` whole tokens; returns how many it took. */
  take(n: number, now: number): number {
    this.#refill(now);
    const got = Math.min(n, Math.floor(this.#tokens));
    this.#tokens -= got;
    return got;
  }

  /** Milliseconds until `n` (≤ burst) whole tokens are available. */
  waitFor(n: number, now: number): number {
    this.#refill(now);
    const missing = Math.min(n, this.burst) - this.#tokens;
    return missing <= 0 ? 0 : Math.ceil(missing / this.ratePerMs);
  }

  #refill(now: number): void {
    if (now > this.#at) {
      this.#tokens = Math.min(this.burst, this.#tokens + (now - this.#at) * this.ratePerMs);
      this.#at = now;
    }
  }
}

/** A counting semaphore whose waiting line is bounded. */
export class Semaphore {
  running = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(
    readonly permits: number,
    readonly queue: number,
  ) {}

  get queued(): number {
    return this.#waiters.length;
  }

  /** A permit now, a promise of one when the line has room, or `false` when it is full. */
  acquire(): true | Promise<void> | false {
    if (this.running < this.permits) {
      this.running++;
      return true;
    }
    if (this.#waiters.length >= this.queue) return false;
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.running--;
  }
}
