/**
 * @module `cache`: keyed memoisation of a one-to-one stage (DESIGN §5). Each
 * chunk is looked up record by record (one clock reading per chunk, no
 * promise on an all-hit chunk); only the misses — one per distinct key, and
 * none for a key another call is already computing (single-flight) — are
 * handed to the wrapped stage as a sub-chunk, and the results are merged back
 * in input order. Failed records are not cached; they go to the dead letter.
 * Counters become one `cache.stats` event per interval and checkpoint.
 *
 * The L2 store (`disk: true`, under `<home>/cache/<namespace>/`) was chosen by
 * measurement on this machine (2 cores, Node 20, 50k entries of ~130 bytes):
 *
 * | store | writes/s | point read p50 / p99 | runtimes |
 * |---|---|---|---|
 * | LMDB (`lmdb` 3.5, chosen) | 130k–310k | 2–5 µs / 21 µs, synchronous | node, bun, deno |
 * | DuckDB (`@duckdb/node-api`) | 276k (appender) | 470 µs / 4.7 ms, async; 43 µs/key batched; upsert 81 µs/row | node, bun, deno |
 * | append-log file + in-memory index | 190k | 23 µs / 73 µs async (4 µs sync) | node, bun, deno |
 *
 * DuckDB is a column store: a point lookup is a query, two orders of
 * magnitude slower than a cache read should be. The append log reads fast
 * but keeps every key in memory, must scan the whole file when it opens, and
 * needs its own compaction and torn-tail recovery. LMDB gives synchronous
 * memory-mapped reads (an L2 hit costs no promise), ordered keys for the
 * TTL/eviction index, crash safety and a 1 ms re-open; its binary comes in
 * registry packages (`@lmdb/lmdb-<platform>`), nothing is downloaded. Through
 * this operator (`benchmarks/cache.bench.ts`): an L2 hit costs 3.2 µs p50 /
 * 9.8 µs p99 on Node (2.7/13.3 on Bun, 3.5/10.5 on Deno), an L1 → L2 flush
 * writes ~85k entries/s, and the all-hit L1 path costs 0.7–1.1× a bare
 * `lru-cache` get per record. Files written on one runtime are read by the
 * others (`test/operators/runtimes.test.ts`).
 *
 * Values are shared, not copied: a hit returns the same object to every
 * record, so downstream stages must not mutate it. L2 values must be
 * MessagePack-serialisable (plain data, Dates, Maps, Sets, typed arrays).
 */
import type { Chunk } from "../pipeline/chunk.ts";
import type { Operator, Stage } from "../pipeline/types.ts";
import type { Duration, Size } from "../pipeline/units.ts";
import { type CacheKey, defaultKey, normalizeKey, sizeOf } from "./internal/cache-key.ts";
import { CacheStore, MISS, NEVER } from "./internal/cache-store.ts";
import { CacheOptionsSchema, openL2, type WarmUp, warmUp } from "./internal/cache-support.ts";
import { innerHooks, innerStage, type Outcome, settleOutcomes } from "./internal/inner-stage.ts";
import { makeOperator } from "./internal/operator.ts";
import { parseOptions } from "./internal/options.ts";

export { CacheOptionsSchema } from "./internal/cache-support.ts";

/** Options of {@link cache}; validated by {@link CacheOptionsSchema}. */
export interface CacheOptions<A, B> {
  /** The cache key of a record; default: a stable serialisation of the whole record. */
  readonly key?: (record: A) => string | number;
  /** How long an entry is served after it was computed; default: no expiry. */
  readonly ttl?: Duration;
  /** L1 bound in entries (default 10 000). */
  readonly maxEntries?: number;
  /** L1 bound in estimated bytes (default "64MiB"). */
  readonly maxBytes?: Size;
  /** Size of a value in bytes for the L1 bound; default: an estimate of its memory. */
  readonly sizeOf?: (value: B) => number;
  /** L2 on disk under `<home>/cache/<namespace>`; `true` for the defaults. */
  readonly disk?:
    | boolean
    | {
        /** L2 bound in entries (default 1 000 000); soonest-to-expire entries go first. */
        readonly maxEntries?: number;
        /** L2 reads of a key before it is promoted to L1 (default 1). */
        readonly promoteAfter?: number;
        /** fsync each L2 commit (default false). */
        readonly sync?: boolean;
      };
  /** L2 directory name; default `<pipeline>.<stage>`. Give one to share a cache between pipelines. */
  readonly namespace?: string;
  /** Bump when the wrapped stage's logic changes: L2 entries of another version are dropped. */
  readonly version?: string | number;
  /** Interval of `cache.stats` events (default "1s"; also at each checkpoint). */
  readonly statsInterval?: Duration;
  /** `[key, value]` pairs loaded before the first record (iterable, async iterable or a source). */
  readonly warmUp?: WarmUp<B>;
}

/**
 * Memoises a one-to-one stage by key, in memory (L1) and optionally on disk
 * (L2, surviving restarts and shared by resumed runs).
 *
 * @example
 * ```ts
 * pipeline("orders")
 *   .from(csv("orders.csv"))
 *   .via(cache({ key: (o) => o.user, ttl: "10m", disk: true }, map(async (o) => lookupUser(o))))
 *   .to(collect());
 * ```
 */
export function cache<A, B>(options: CacheOptions<A, B>, stage: Operator<A, B>): Operator<A, B> {
  const o = parseOptions("cache", CacheOptionsSchema, options);
  const key: (record: A) => string | number = options.key ?? defaultKey;
  const ttl = o.ttl;
  return makeOperator<A, B>(`cache.${stage.name}`, "one", (ctx): Stage<A, B> => {
    const inner = innerStage("cache", stage, ctx);
    const clock = ctx.clock;
    const store = new CacheStore<B>({
      maxEntries: o.maxEntries,
      maxBytes: o.maxBytes,
      sizeOf: options.sizeOf ?? sizeOf,
      now: () => clock.now(),
    });
    /** Keys being computed by a call still running: the call's outcomes and the key's place in them. */
    const inflight = new Map<CacheKey, { readonly call: Promise<Outcome<B>[]>; readonly at: number }>();
    let closeL2: (() => Promise<void>) | undefined;
    let stopTimer: (() => void) | undefined;

    const report = () => {
      store.flush();
      store.sweep();
      const s = store.takeStats();
      if (s.hits + s.misses + s.evictions + s.promotions + s.demotions === 0) return;
      const l1 = store.l1;
      ctx.emit({
        kind: "cache.stats",
        stage: ctx.stage,
        hits: s.hits,
        misses: s.misses,
        evictions: s.evictions,
        promotions: s.promotions,
        demotions: s.demotions,
        l2Hits: s.l2Hits,
        entries: l1.entries,
        bytes: l1.bytes,
        hitRate: s.hits / Math.max(1, s.hits + s.misses),
      });
    };

    const resolveMisses = (
      records: ReadonlyArray<A>,
      chunk: Chunk<A>,
      out: Array<B | typeof MISS>,
      keys: CacheKey[],
      missAt: number[],
      keyErrors: Map<number, unknown> | undefined,
    ): B[] | Promise<B[]> => {
      // One call per distinct key; keys already being computed wait for that call.
      const first = new Map<CacheKey, number>();
      const sub: A[] = [];
      const subKeys: CacheKey[] = [];
      const waits: Array<Promise<void>> = [];
      const outcomes = new Map<CacheKey, Outcome<B>>();
      for (let m = 0; m < missAt.length; m++) {
        const k = keys[m];
        if (first.has(k) || outcomes.has(k)) continue;
        const running = inflight.get(k);
        if (running) {
          store.stats.misses--;
          store.stats.hits++;
          waits.push(running.call.then((r) => void outcomes.set(k, r[running.at])));
          first.set(k, -1);
          continue;
        }
        first.set(k, sub.length);
        sub.push(records[missAt[m]]);
        subKeys.push(k);
      }
      // Repeated keys within the chunk are served by the first one's call.
      const coalesced = missAt.length - sub.length - waits.length;
      store.stats.misses -= coalesced;
      store.stats.hits += coalesced;

      const merge = (results: Outcome<B>[] | undefined): B[] => {
        if (results) {
          const exp = ttl === undefined ? NEVER : clock.now() + ttl;
          for (let s = 0; s < sub.length; s++) {
            const r = results[s];
            outcomes.set(subKeys[s], r);
            if (r.ok) store.set(subKeys[s], r.value, exp);
          }
        }
        const full: Outcome<B>[] = new Array(records.length);
        for (let i = 0; i < records.length; i++) {
          const v = out[i];
          if (v !== MISS) full[i] = { ok: true, value: v };
        }
        for (let m = 0; m < missAt.length; m++) full[missAt[m]] = outcomes.get(keys[m])!;
        if (keyErrors) for (const [i, error] of keyErrors) full[i] = { ok: false, error, attempts: 1 };
        return settleOutcomes(ctx, records, chunk, full);
      };

      const called = sub.length ? inner.call(sub, chunk) : undefined;
      if (called instanceof Promise) {
        for (let s = 0; s < sub.length; s++) inflight.set(subKeys[s], { call: called, at: s });
        const clear = () => {
          for (const k of subKeys) if (inflight.get(k)?.call === called) inflight.delete(k);
        };
        return Promise.all([called, ...waits]).then(
          ([results]) => {
            clear();
            return merge(results);
          },
          (e) => {
            clear();
            throw e;
          },
        );
      }
      if (waits.length) return Promise.all(waits).then(() => merge(called));
      return merge(called);
    };

    return {
      ...innerHooks(inner.stage),
      type: "chunk",
      process(records, chunk) {
        const n = records.length;
        const now = clock.now();
        const out: Array<B | typeof MISS> = new Array(n);
        let keys: CacheKey[] | undefined;
        let missAt: number[] | undefined;
        let keyErrors: Map<number, unknown> | undefined;
        for (let i = 0; i < n; i++) {
          let k: CacheKey;
          try {
            k = key(records[i]);
            if (typeof k !== "number" && (typeof k !== "string" || k.length > 200)) k = checkKey(k);
          } catch (e) {
            keyErrors ??= new Map();
            keyErrors.set(i, e);
            out[i] = MISS;
            continue;
          }
          const v = store.get(k, now);
          out[i] = v;
          if (v === MISS) {
            if (!keys || !missAt) {
              keys = [];
              missAt = [];
            }
            keys.push(k);
            missAt.push(i);
          }
        }
        if (!missAt && !keyErrors) return out as B[];
        return resolveMisses(records, chunk, out, keys ?? [], missAt ?? [], keyErrors);
      },
      async start() {
        await inner.stage.start?.();
        if (o.disk) {
          const l2 = await openL2(ctx, o);
          closeL2 = l2.close;
          await store.attachL2({ ...l2.options, env: l2.env });
          store.sweep();
        }
        if (options.warmUp) await warmUp(ctx, options.warmUp, store, ttl);
        stopTimer = clock.every(o.statsInterval, report);
      },
      snapshot() {
        report();
        return inner.stage.snapshot?.();
      },
      async close() {
        stopTimer?.();
        try {
          report();
          await closeL2?.();
        } finally {
          await inner.stage.close?.();
        }
      },
    };
  });
}

/** Shortens a long string key; rejects what is not a string or a number. */
function checkKey(k: unknown): CacheKey {
  if (typeof k === "string") return normalizeKey(k);
  throw new TypeError(`cache: the key function returned ${typeof k}; it must return a string or a number`);
}
