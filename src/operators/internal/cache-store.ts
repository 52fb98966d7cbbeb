/**
 * @module The two cache levels behind `cache()` and the figures they count.
 *
 * L1 is `lru-cache` bounded by entries and by bytes. Expiry is checked here
 * against one clock reading per chunk instead of `lru-cache`'s own TTL, which
 * reads the time on every get and keeps a real timer: that way TTLs follow
 * the injected clock exactly (virtual time in tests) and the hit path costs
 * no clock call per record.
 *
 * L2 (optional) is an LMDB environment (`kv-store.ts`) with two
 * stores: `entries` (key → [value, expiresAt]) and `expiry` ([expiresAt,
 * key] → 1), an ordered index that serves both the TTL sweep and capacity
 * eviction (soonest-to-expire first, which with one TTL is oldest first).
 * L1 is write-back: a computed value stays in memory (dirty) until L1 evicts
 * it — a demotion — or a checkpoint, interval or close flushes it, so a hot
 * key costs no disk write per refresh. An L2 hit is promoted into L1 once the
 * key has been read from L2 `promoteAfter` times. A `meta` store keeps the
 * cache's `version`; opening with another version clears L2, so a changed
 * stage never serves entries computed by the old one.
 */
import { LRUCache } from "lru-cache";
import type { CacheKey } from "./cache-key.ts";
import type { KvEnv, KvStore } from "./kv-store.ts";

/** Returned by `get` when the key is not cached (values may be `undefined`). */
export const MISS: unique symbol = Symbol("sluice/cache-miss");

/** Expiry of entries without TTL (a finite number: LMDB keys order by it). */
export const NEVER = Number.MAX_SAFE_INTEGER;

interface L1Entry<B> {
  readonly v: B;
  readonly exp: number;
  readonly size: number;
  dirty: boolean;
}

type L2Entry<B> = [value: B, expiresAt: number];

/** Figures since the last `takeStats()`. */
export interface CacheCounters {
  hits: number;
  misses: number;
  evictions: number;
  promotions: number;
  demotions: number;
  l2Hits: number;
  expired: number;
  l2Writes: number;
  l2Evictions: number;
}

export interface CacheStoreOptions<B> {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly sizeOf: (value: B) => number;
  readonly now: () => number;
}

export interface L2Options {
  readonly env: KvEnv;
  readonly maxEntries: number;
  readonly promoteAfter: number;
  readonly version: string;
}

const zero = (): CacheCounters => ({
  hits: 0,
  misses: 0,
  evictions: 0,
  promotions: 0,
  demotions: 0,
  l2Hits: 0,
  expired: 0,
  l2Writes: 0,
  l2Evictions: 0,
});

export class CacheStore<B> {
  readonly #l1: LRUCache<CacheKey, L1Entry<B>>;
  readonly #dirty = new Set<CacheKey>();
  readonly #sizeOf: (value: B) => number;
  readonly #now: () => number;
  #l2?: { entries: KvStore<L2Entry<B>>; expiry: KvStore<1>; opts: L2Options; count: number };
  #l2Reads = new Map<CacheKey, number>();
  /** Counters since the last `takeStats`. */
  stats: CacheCounters = zero();

  constructor(o: CacheStoreOptions<B>) {
    this.#sizeOf = o.sizeOf;
    this.#now = o.now;
    this.#l1 = new LRUCache<CacheKey, L1Entry<B>>({
      max: o.maxEntries,
      maxSize: o.maxBytes,
      sizeCalculation: (e) => Math.max(1, e.size),
      dispose: (e, key, reason) => {
        if (reason !== "evict") return;
        this.stats.evictions++;
        if (e.dirty && this.#dirty.delete(key) && this.#l2 && e.exp > this.#now()) {
          this.#writeL2(key, e.v, e.exp);
          this.stats.demotions++;
        }
      },
    });
  }

  /** Attaches L2; clears it when it was written by another `version`. */
  async attachL2(o: L2Options): Promise<{ cleared: boolean }> {
    const meta = o.env.store<string>("meta");
    const entries = o.env.store<L2Entry<B>>("entries");
    const expiry = o.env.store<1>("expiry");
    const stored = meta.get("version");
    let cleared = false;
    if (stored !== o.version) {
      cleared = stored !== undefined;
      await entries.clear();
      await expiry.clear();
      meta.put("version", o.version);
    }
    this.#l2 = { entries, expiry, opts: o, count: entries.count() };
    return { cleared };
  }

  /** The value for `key`, or `MISS`. `now` is read once per chunk by the caller. */
  get(key: CacheKey, now: number): B | typeof MISS {
    const e = this.#l1.get(key);
    if (e !== undefined) {
      if (e.exp > now) {
        this.stats.hits++;
        return e.v;
      }
      this.#l1.delete(key);
      this.#dirty.delete(key);
      this.stats.expired++;
    }
    if (this.#l2) return this.#getL2(key, now);
    this.stats.misses++;
    return MISS;
  }

  #getL2(key: CacheKey, now: number): B | typeof MISS {
    const l2 = this.#l2!;
    const d = l2.entries.get(key);
    if (d !== undefined) {
      if (d[1] > now) {
        this.stats.hits++;
        this.stats.l2Hits++;
        const reads = (this.#l2Reads.get(key) ?? 0) + 1;
        if (reads >= l2.opts.promoteAfter) {
          this.#l2Reads.delete(key);
          this.#l1.set(key, { v: d[0], exp: d[1], size: this.#entrySize(key, d[0]), dirty: false });
          this.stats.promotions++;
        } else {
          if (this.#l2Reads.size >= this.#l1.max) this.#l2Reads.clear();
          this.#l2Reads.set(key, reads);
        }
        return d[0];
      }
      this.#removeL2(key, d[1]);
      this.stats.expired++;
    }
    this.stats.misses++;
    return MISS;
  }

  /** Stores a computed value in L1 (written to L2 on eviction or flush). */
  set(key: CacheKey, value: B, expiresAt: number): void {
    this.#l1.set(key, { v: value, exp: expiresAt, size: this.#entrySize(key, value), dirty: true });
    if (this.#l2) this.#dirty.add(key);
  }

  /** Writes dirty L1 entries to L2 (at checkpoints, intervals and close). */
  flush(): void {
    if (!this.#l2 || this.#dirty.size === 0) return;
    const now = this.#now();
    for (const key of this.#dirty) {
      const e = this.#l1.peek(key);
      if (e?.dirty && e.exp > now) {
        this.#writeL2(key, e.v, e.exp);
        e.dirty = false;
      }
    }
    this.#dirty.clear();
  }

  /** Removes expired L2 entries, then the soonest-to-expire ones above the entry bound. */
  sweep(): void {
    const l2 = this.#l2;
    if (!l2) return;
    const now = this.#now();
    for (const k of l2.expiry.keys({ end: [now, ""] })) {
      const [exp, key] = k as [number, CacheKey];
      this.#removeL2(key, exp);
      this.stats.expired++;
    }
    const excess = l2.count - l2.opts.maxEntries;
    if (excess > 0) {
      for (const k of l2.expiry.keys({ limit: excess })) {
        const [exp, key] = k as [number, CacheKey];
        if (this.#removeL2(key, exp)) this.stats.l2Evictions++;
      }
    }
  }

  /** L1 entries and their estimated bytes. */
  get l1(): { entries: number; bytes: number } {
    return { entries: this.#l1.size, bytes: this.#l1.calculatedSize };
  }

  /** L2 entries (committed and pending), or 0 without L2. */
  get l2Entries(): number {
    return this.#l2?.count ?? 0;
  }

  /** Returns the counters since the last call and starts new ones. */
  takeStats(): CacheCounters {
    const s = this.stats;
    this.stats = zero();
    return s;
  }

  #entrySize(key: CacheKey, v: B): number {
    return 48 + (typeof key === "string" ? 2 * key.length : 8) + this.#sizeOf(v);
  }

  #writeL2(key: CacheKey, v: B, exp: number): void {
    const l2 = this.#l2!;
    const old = l2.entries.get(key);
    if (old) l2.expiry.remove([old[1], key]);
    else l2.count++;
    l2.entries.put(key, [v, exp]);
    l2.expiry.put([exp, key], 1);
    this.stats.l2Writes++;
    if (l2.count > l2.opts.maxEntries * 1.1 + 16) this.sweep();
  }

  /** Removes `key` if its entry still expires at `exp`; true if it did. */
  #removeL2(key: CacheKey, exp: number): boolean {
    const l2 = this.#l2!;
    l2.expiry.remove([exp, key]);
    const d = l2.entries.get(key);
    if (d === undefined || d[1] !== exp) return false;
    l2.entries.remove(key);
    l2.count--;
    return true;
  }
}
