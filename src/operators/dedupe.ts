/**
 * @module `dedupe(key)`: keeps the first record of each key. Its state (the
 * keys seen) is snapshotted at every checkpoint barrier and restored on
 * resume, so a resumed run neither re-emits nor drops a record. State grows
 * with distinct keys; `maxKeys` bounds it (beyond it the run fails with a
 * clear error rather than silently forgetting keys and letting duplicates by).
 */
import { StageError } from "../pipeline/errors.ts";
import { rejectUnknownOptions } from "../pipeline/internal/options.ts";
import type { Operator } from "../pipeline/types.ts";
import { makeOperator, recordFailed } from "./internal/operator.ts";

export type Key = string | number | boolean | bigint | null | undefined;

export interface DedupeOptions {
  /** Most distinct keys kept; default 10,000,000. */
  readonly maxKeys?: number;
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
  rejectUnknownOptions("dedupe()", options, ["maxKeys"]);
  const maxKeys = options.maxKeys ?? 10_000_000;
  return makeOperator<A, A>("dedupe", "filter", (ctx) => {
    let seen = new Set<Key>();
    return {
      type: "chunk",
      process(records, chunk) {
        const out: A[] = [];
        for (let i = 0; i < records.length; i++) {
          let k: Key;
          try {
            k = key(records[i]);
          } catch (e) {
            recordFailed(ctx, chunk, i, records[i], e);
            continue;
          }
          if (seen.has(k)) continue;
          if (seen.size >= maxKeys) {
            throw new StageError(`dedupe (${ctx.stage}) holds ${maxKeys} distinct keys, its maxKeys limit`, {
              hint: "Raise maxKeys (memory grows with it) or dedupe on a coarser key.",
            });
          }
          seen.add(k);
          out.push(records[i]);
        }
        return out;
      },
      snapshot: () => [...seen].map((k) => (typeof k === "bigint" ? { bigint: k.toString() } : k)),
      restore(state) {
        const keys = state as Array<Key | { bigint: string }>;
        seen = new Set(keys.map((k) => (typeof k === "object" && k !== null ? BigInt(k.bigint) : k)));
      },
    };
  });
}
