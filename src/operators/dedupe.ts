/**
 * @module `dedupe(key)`: keeps the first record of each key. The keys seen live in the keyed
 * state backend (`internal/state/key-set.ts`): in memory up to `memoryKeys`, then spilled to
 * run files under the run's directory with a Bloom filter in front; each checkpoint appends
 * only the keys added since the previous one, and the journal records a token of a few
 * numbers, so checkpoints cost what changed and memory stays flat however many keys there
 * are. A resumed run neither re-emits nor drops a record. `maxKeys` bounds the keys held
 * (beyond it the run fails with a clear error rather than silently forgetting keys); `ttl`
 * forgets keys after a while, on the run's clock.
 */
import { StageError } from "../pipeline/errors.ts";
import { rejectUnknownOptions } from "../pipeline/internal/options.ts";
import type { Operator } from "../pipeline/types.ts";
import { type Duration, toMillis } from "../pipeline/units.ts";
import { paths } from "../runtime/fs.ts";
import { makeOperator, recordFailed } from "./internal/operator.ts";
import type { StateKey } from "./internal/state/bloom.ts";
import { type KeySetToken, SpillingKeySet } from "./internal/state/key-set.ts";

export type Key = StateKey;

export interface DedupeOptions {
  /** Most distinct keys kept; default 10,000,000 (the Bloom filter is sized for it: 2 bytes a key). */
  readonly maxKeys?: number;
  /**
   * Keys kept in memory before they are spilled to disk; default 250,000 (~20 MB of short strings).
   * Measured (`npm run bench:state`, peak RSS at 1M → 10M distinct keys): 1,000,000 gave
   * 345 → 860 MB; 250,000 gives ~247 → ~324 MB; 100,000 ~240 → ~265 MB. The price is CPU: on
   * the 2M-key CSV run 250,000 took ~1 s more CPU than 1,000,000 (~9.4 s against ~8.4 s, and
   * RSS ~285 MB against ~395 MB), as every key after the first spill is looked up in, and added
   * to, the Bloom filter (a cache miss each) and each spill rewrites the 20 MB filter, fsynced.
   */
  readonly memoryKeys?: number;
  /** Forget a key this long after it was first seen (then its next record passes again), e.g. `"1h"`. */
  readonly ttl?: Duration | string;
}

/**
 * Drops every record whose key was seen before (filtered, not dead-lettered).
 *
 * @example
 * ```ts
 * pipeline("p").from(iterable([{ id: 1 }, { id: 1 }, { id: 2 }])).via(dedupe((r) => r.id)).to(collect());
 * // [{ id: 1 }, { id: 2 }]
 * ```
 */
export function dedupe<A>(key: (record: A) => Key, options: DedupeOptions = {}): Operator<A, A> {
  rejectUnknownOptions("dedupe()", options, ["maxKeys", "memoryKeys", "ttl"]);
  const maxKeys = options.maxKeys ?? 10_000_000;
  const memoryKeys = Math.max(1, options.memoryKeys ?? 250_000);
  const ttlMs = options.ttl === undefined ? undefined : toMillis(options.ttl, "dedupe ttl");
  return makeOperator<A, A>("dedupe", "filter", (ctx) => {
    let seen: SpillingKeySet | undefined;
    const state = () => seen as SpillingKeySet;
    return {
      type: "chunk",
      async start() {
        seen = await SpillingKeySet.open({
          dir: paths.join(ctx.runDir, "state", ctx.stage.replace(/[^\w.-]/g, "_")),
          memoryKeys,
          expectedKeys: Math.min(maxKeys, 50_000_000),
          ttlMs,
          clock: ctx.clock,
        });
      },
      process(records, chunk) {
        const s = state();
        if (ttlMs !== undefined) s.now = ctx.clock.now();
        const out: A[] = [];
        for (let i = 0; i < records.length; i++) {
          let k: Key;
          try {
            k = key(records[i]);
          } catch (e) {
            recordFailed(ctx, chunk, i, records[i], e);
            continue;
          }
          if (s.size >= maxKeys) {
            if (s.has(k)) continue;
            throw new StageError(`dedupe (${ctx.stage}) holds ${maxKeys} distinct keys, its maxKeys limit`, {
              hint: "Raise maxKeys, set a ttl so old keys are forgotten, or dedupe on a coarser key.",
            });
          }
          if (s.addIfAbsent(k)) out.push(records[i]);
        }
        return s.wantsSpill ? s.spill().then(() => out) : out;
      },
      snapshot: () => state().checkpoint(),
      restore(token) {
        // A snapshot of an older sluice held the keys themselves.
        if (Array.isArray(token)) {
          state().restoreKeys(
            (token as Array<Key | { bigint: string }>).map((k) =>
              typeof k === "object" && k !== null ? BigInt(k.bigint) : k,
            ),
          );
          return;
        }
        return state().restore(token as KeySetToken);
      },
      close: () => seen?.close(),
    };
  });
}
