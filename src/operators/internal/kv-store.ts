/**
 * @module An embedded, ordered key-value store on disk, for the L2 level of
 * the `cache` operator. It is LMDB through the `lmdb` package: its native
 * binary ships inside registry packages (`@lmdb/lmdb-<platform>`, no download
 * at install), it loads as a Node-API addon on Node, Bun and Deno alike, reads
 * are synchronous memory-mapped lookups (a few µs, so a chunk's L2 hits cost
 * no promise), writes are batched into one transaction per turn, and it is
 * crash-safe and needs no start-up scan. See `operators/cache.ts` for the
 * measurements against DuckDB and an append-log file.
 *
 * `lmdb` is the same package on every runtime (a Node-API addon), so this is
 * not a runtime difference and lives next to its one user, the cache policy
 * (TTL, eviction, versions) in `cache-store.ts`.
 */
import { type Key, open, type RootDatabase } from "lmdb";
import { paths } from "../../runtime/fs.ts";

/** A key: a string, a number, or a tuple of them (ordered element by element). */
export type KvKey = string | number | ReadonlyArray<string | number>;

/** One named store in an environment. Writes are visible to `get` at once and durable after `flushed()`. */
export interface KvStore<V> {
  get(key: KvKey): V | undefined;
  put(key: KvKey, value: V): void;
  remove(key: KvKey): void;
  /** Keys in ascending order, from the first up to (excluding) `end`. */
  keys(options?: { readonly end?: KvKey; readonly limit?: number }): Iterable<KvKey>;
  /** Number of committed entries (writes still in flight are not counted). */
  count(): number;
  /** Removes every entry (waits for the commit). */
  clear(): Promise<void>;
}

/** A directory holding one or more named stores. */
export interface KvEnv {
  readonly path: string;
  store<V>(name: string): KvStore<V>;
  /** Resolves when every write so far is committed to disk. */
  flushed(): Promise<void>;
  /** Flushes and releases the directory (the last holder closes it). */
  close(): Promise<void>;
}

export interface KvEnvOptions {
  /** fsync each commit (default false: a process crash keeps committed data, a power loss may lose the last commits). */
  readonly sync?: boolean;
}

const opened = new Map<string, { root: RootDatabase; refs: number }>();

/**
 * Opens (creating if needed) the store in the existing directory `path`
 * (files `store.lmdb` and `store.lmdb-lock`). Opening the same
 * path twice in a process shares one environment.
 *
 * @example
 * ```ts
 * const env = await openKvEnv(".sluice/cache/users");
 * const users = env.store<{ name: string }>("entries");
 * users.put("u1", { name: "Ada" });
 * users.get("u1"); // { name: "Ada" }
 * await env.close();
 * ```
 */
export async function openKvEnv(path: string, options: KvEnvOptions = {}): Promise<KvEnv> {
  let held = opened.get(path);
  if (!held) {
    const root = open({
      path: paths.join(path, "store.lmdb"),
      compression: false,
      maxDbs: 16,
      noSync: !options.sync,
      cache: true,
    });
    held = { root, refs: 0 };
    opened.set(path, held);
  }
  held.refs++;
  const h = held;
  let closed = false;
  return {
    path,
    store<V>(name: string): KvStore<V> {
      const db = h.root.openDB<V, Key>(name, { cache: true, compression: false });
      // LMDB's cache shows a pending put to `get` but not a pending remove: track those here.
      const removing = new Map<string, Promise<boolean>>();
      const id = (key: KvKey) => (typeof key === "string" ? key : JSON.stringify(key));
      return {
        get: (key) => (removing.size && removing.has(id(key)) ? undefined : db.get(key as Key)),
        put: (key, value) => {
          if (removing.size) removing.delete(id(key));
          void db.put(key as Key, value);
        },
        remove: (key) => {
          const k = id(key);
          const p = db.remove(key as Key);
          removing.set(k, p);
          void p.finally(() => {
            if (removing.get(k) === p) removing.delete(k);
          });
        },
        keys: (o = {}) => db.getKeys({ end: o.end as Key, limit: o.limit }) as Iterable<KvKey>,
        count: () => db.getCount(),
        clear: () => db.clearAsync(),
      };
    },
    flushed: async () => {
      await h.root.flushed;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await h.root.flushed;
      if (--h.refs === 0) {
        opened.delete(path);
        await h.root.close();
      }
    },
  };
}
