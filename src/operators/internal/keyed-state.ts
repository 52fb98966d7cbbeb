/**
 * @module The state of `keyed()`: per key, the user's state value, when it
 * expires (TTL) and its event-time timers. Expiry and timers fire in order
 * from two heaps whose entries are invalidated lazily (a version per key, a
 * set of pending timer times per key), so touching a key never searches.
 * Snapshots copy each state value (`structuredClone`: user code may mutate
 * it after the barrier) and are bounded by the keys held, which the TTL
 * bounds.
 */
import { StageError } from "../../pipeline/errors.ts";
import type { Key } from "../dedupe.ts";
import { Heap } from "./heap.ts";
import { decodeKey, type EncodedKey, encodeKey } from "./keys.ts";

interface Entry<S> {
  state: S;
  /** When the state expires (event time or the run's clock); Infinity without a TTL. */
  expires: number;
  ver: number;
  /** Pending timers: time → registration number (orders timers due at the same time, also after a resume). */
  timers: Map<number, number>;
}

interface Due {
  readonly at: number;
  readonly key: Key;
  readonly ver: number;
  readonly seq: number;
}

type KeySnapshot = [key: EncodedKey, state: unknown, expires: number, timers: Array<[number, number]>];

export class KeyedState<S> {
  readonly #keys = new Map<Key, Entry<S>>();
  readonly #expiry = new Heap<Due>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  readonly #timers = new Heap<Due>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  #seq = 0;

  constructor(
    readonly stage: string,
    readonly ttl: number | undefined,
    readonly maxKeys: number,
  ) {}

  get size(): number {
    return this.#keys.size;
  }

  get(key: Key): S | undefined {
    return this.#keys.get(key)?.state;
  }

  /** Sets (or, with `undefined`, deletes) a key's state; `now` restarts its TTL. */
  set(key: Key, state: S | undefined, now: number): void {
    const e = this.#keys.get(key);
    if (state === undefined) {
      if (e) {
        e.ver++;
        if (e.timers.size === 0) this.#keys.delete(key);
        else e.state = undefined as S;
      }
      return;
    }
    const expires = this.ttl === undefined ? Number.POSITIVE_INFINITY : now + this.ttl;
    if (e) {
      e.state = state;
      // Out-of-order input never shortens a TTL: it runs from the latest time the key was touched.
      if (expires !== e.expires && (expires > e.expires || e.expires === Number.POSITIVE_INFINITY)) {
        e.expires = expires;
        e.ver++;
        if (Number.isFinite(expires)) this.#expiry.push({ at: expires, key, ver: e.ver, seq: this.#seq++ });
      }
      return;
    }
    if (this.#keys.size >= this.maxKeys) {
      throw new StageError(`keyed (${this.stage}) holds ${this.maxKeys} keys, its maxKeys limit`, {
        hint: "Set a ttl so idle keys are dropped, raise maxKeys (memory grows with it) or key more coarsely.",
      });
    }
    this.#keys.set(key, { state, expires, ver: 0, timers: new Map() });
    if (Number.isFinite(expires)) this.#expiry.push({ at: expires, key, ver: 0, seq: this.#seq++ });
  }

  /** Registers an event-time timer for `key` at `at` (once per key and time). */
  timer(key: Key, at: number): void {
    let e = this.#keys.get(key);
    if (!e) {
      e = { state: undefined as S, expires: Number.POSITIVE_INFINITY, ver: 0, timers: new Map() };
      this.#keys.set(key, e);
    }
    if (e.timers.has(at)) return;
    const seq = this.#seq++;
    e.timers.set(at, seq);
    this.#timers.push({ at, key, ver: 0, seq });
  }

  /** Drops the state of keys whose TTL ran out at `now`. */
  expire(now: number): void {
    const h = this.#expiry;
    for (let d = h.peek(); d !== undefined && d.at <= now; d = h.peek()) {
      h.pop();
      const e = this.#keys.get(d.key);
      if (!e || e.ver !== d.ver) continue;
      e.ver++;
      e.state = undefined as S;
      e.expires = Number.POSITIVE_INFINITY;
      if (e.timers.size === 0) this.#keys.delete(d.key);
    }
  }

  /** The next timer due at watermark `wm` (removed), in order of time then registration. */
  nextTimer(wm: number): { key: Key; at: number } | undefined {
    const h = this.#timers;
    for (let d = h.peek(); d !== undefined && d.at <= wm; d = h.peek()) {
      h.pop();
      const e = this.#keys.get(d.key);
      if (!e || e.timers.get(d.at) !== d.seq) continue;
      e.timers.delete(d.at);
      if (e.timers.size === 0 && e.state === undefined) this.#keys.delete(d.key);
      return { key: d.key, at: d.at };
    }
    return undefined;
  }

  snapshot(): { seq: number; keys: KeySnapshot[] } {
    return {
      seq: this.#seq,
      keys: Array.from(
        this.#keys,
        ([k, e]): KeySnapshot => [encodeKey(k), structuredClone(e.state), e.expires, [...e.timers]],
      ),
    };
  }

  restore(state: unknown): void {
    this.#keys.clear();
    this.#expiry.clear();
    this.#timers.clear();
    const st = state as ReturnType<KeyedState<S>["snapshot"]>;
    this.#seq = st.seq;
    for (const [ek, s, expires, timers] of st.keys) {
      const key = decodeKey(ek);
      const e: Entry<S> = {
        state: (s ?? undefined) as S,
        expires: expires ?? Number.POSITIVE_INFINITY,
        ver: 0,
        timers: new Map(timers),
      };
      this.#keys.set(key, e);
      if (Number.isFinite(e.expires)) this.#expiry.push({ at: e.expires, key, ver: 0, seq: 0 });
      for (const [at, seq] of timers) this.#timers.push({ at, key, ver: 0, seq });
    }
  }
}
