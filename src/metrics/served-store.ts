/**
 * @module The metrics store behind a server (`sluice serve`, `sluice run
 * --serve`): opened and caught up as any reader opens it (`openCaughtUp`),
 * then caught up again at each `refresh` (the server calls it every few
 * seconds) so that new runs show.
 *
 * When another process held the store at start (a `sluice metrics` catching
 * up a long backlog, another `sluice serve`), the server serves a copy of it
 * as it stood. Each `refresh` then tries the store itself, and once it is
 * free, catches it up and serves it; the copy is closed (and removed) when
 * the queries running on it have ended. A server started at the wrong moment
 * so never stays on an old copy until it is restarted.
 */
import { stateHome } from "../pipeline/run.ts";
import { type CatchUpOptions, catchUp, openCaughtUp } from "./catch-up.ts";
import { MetricsLockedError } from "./errors.ts";
import type { MetricsStore } from "./store.ts";

export interface ServedStoreOptions extends Pick<CatchUpOptions, "onWarning"> {
  /** How long opening waits for a store another reader holds before serving a copy (default 10 s). */
  readonly waitMs?: number;
  /** Called once when the store is held and the wait for it begins. */
  readonly onWaiting?: (message: string) => void;
  /** Called once a store that was held is served itself (`refresh` took it). */
  readonly onFreed?: () => void;
}

export class ServedStore {
  #store: MetricsStore;
  #stale: string | undefined;
  readonly #home: string;
  readonly #options: ServedStoreOptions;
  #refreshing: Promise<void> | undefined;
  /** Calls in progress per store: a store replaced meanwhile is closed when its last call ends. */
  readonly #inUse = new Map<MetricsStore, number>();
  #closed = false;

  private constructor(
    store: MetricsStore,
    stale: string | undefined,
    home: string,
    options: ServedStoreOptions,
  ) {
    this.#store = store;
    this.#stale = stale;
    this.#home = home;
    this.#options = options;
  }

  /** Opens and catches up the store of `home` (or a copy of it, when another process holds it). */
  static async open(home: string | undefined, options: ServedStoreOptions = {}): Promise<ServedStore> {
    const opened = await openCaughtUp(home, {
      onWarning: options.onWarning,
      waitMs: options.waitMs,
      onWaiting: options.onWaiting,
    });
    return new ServedStore(opened.store, opened.stale, stateHome(home), options);
  }

  /** Why a copy is served (the store was held); undefined when the store itself is. */
  get stale(): string | undefined {
    return this.#stale;
  }

  /** Runs `fn` on the store served now (kept open until `fn` settles, even if replaced meanwhile). */
  async use<T>(fn: (store: MetricsStore) => Promise<T>): Promise<T> {
    const store = this.#store;
    this.#inUse.set(store, (this.#inUse.get(store) ?? 0) + 1);
    try {
      return await fn(store);
    } finally {
      const left = (this.#inUse.get(store) ?? 1) - 1;
      if (left > 0) this.#inUse.set(store, left);
      else {
        this.#inUse.delete(store);
        if (store !== this.#store) await store.close().catch(() => {});
      }
    }
  }

  /**
   * Catches the served store up on the journals; while a copy is served,
   * tries the store itself instead and serves it when it is free. One
   * refresh at a time: a call during one returns it.
   */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    if (this.#closed) return;
    const onWarning = this.#options.onWarning;
    if (this.#stale === undefined) {
      await this.use((store) => catchUp(store, this.#home, { onWarning }));
      return;
    }
    const { openMetricsStore } = await import("./store.ts");
    let store: MetricsStore;
    try {
      store = await openMetricsStore(this.#home);
    } catch (e) {
      if (e instanceof MetricsLockedError) return;
      throw e;
    }
    try {
      await catchUp(store, this.#home, { onWarning });
    } catch (e) {
      await store.close().catch(() => {});
      throw e;
    }
    if (this.#closed) {
      await store.close();
      return;
    }
    const copy = this.#store;
    this.#store = store;
    this.#stale = undefined;
    if (!this.#inUse.has(copy)) await copy.close().catch(() => {});
    this.#options.onFreed?.();
  }

  /** Closes the store served (after a refresh in progress). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#refreshing?.catch(() => {});
    await this.#store.close();
  }
}
