/**
 * @module A token bucket per client on the injected clock: `ratePerSecond`
 * sustained, `burst` at once. The table of clients is bounded; the least
 * recently seen client is forgotten first (it then starts with a full bucket,
 * which errs on the side of serving).
 */
import type { Clock } from "../../runtime/clock.ts";

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly clock: Clock,
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxClients = 10_000,
  ) {}

  /** Takes one token for `key`; returns 0 when allowed, else seconds until the next token. */
  take(key: string): number {
    const now = this.clock.monotonic();
    let b = this.#buckets.get(key);
    if (b) {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerSecond);
      b.at = now;
    } else {
      if (this.#buckets.size >= this.maxClients) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
      b = { tokens: this.burst, at: now };
      this.#buckets.set(key, b);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.ratePerSecond));
  }
}
