/**
 * @module The state of session windows: per key, its sessions sorted by
 * start. A record at `t` proposes `[t, t + gap)`; every held session of the
 * key that meets it (touching counts) joins it into one, whose accumulator
 * is the merge of theirs. Sessions fire and close in order of due time
 * (end, then end + lateness) from one heap; entries are invalidated lazily
 * by a version number, so a merge never searches the heap.
 */
import type { Key } from "../dedupe.ts";
import type { EmitWindow } from "./aligned-windows.ts";
import { Heap } from "./heap.ts";
import { decodeKey, type EncodedKey, encodeKey } from "./keys.ts";
import type { Acc, Columns } from "./window-columns.ts";

interface Session {
  readonly key: Key;
  start: number;
  end: number;
  readonly acc: Acc;
  /** Creation order: breaks ties between sessions due at the same time. */
  readonly id: number;
  fired: boolean;
  alive: boolean;
  due: number;
  ver: number;
}

interface Entry {
  readonly s: Session;
  readonly due: number;
  readonly ver: number;
}

type SessionSnapshot = [start: number, end: number, id: number, fired: boolean, acc: Acc];

export class SessionWindows<A> {
  readonly #byKey = new Map<Key, Session[]>();
  readonly #heap = new Heap<Entry>(
    (a, b) =>
      a.due < b.due ||
      (a.due === b.due && (a.s.start < b.s.start || (a.s.start === b.s.start && a.s.id < b.s.id))),
  );
  #nextId = 0;
  #open = 0;

  constructor(
    readonly gap: number,
    readonly lateness: number,
    readonly updates: boolean,
    readonly columns: Columns<A>,
  ) {}

  /** Sessions held. */
  get open(): number {
    return this.#open;
  }

  /** Adds a record; returns false when it is too late for any session (kept nowhere). */
  add(r: A, ts: number, seq: number, key: Key, wm: number, emit: EmitWindow): boolean {
    const lo = ts;
    const hi = ts + this.gap;
    let list = this.#byKey.get(key);
    let first = -1;
    let count = 0;
    if (list) {
      for (let i = 0; i < list.length; i++) {
        const s = list[i];
        if (s.start > hi) break;
        if (s.end >= lo) {
          if (first < 0) first = i;
          count++;
        }
      }
    }
    let m: Session;
    if (first < 0) {
      if (hi + this.lateness <= wm) return false;
      m = {
        key,
        start: lo,
        end: hi,
        acc: this.columns.create(),
        id: this.#nextId++,
        fired: false,
        alive: true,
        due: 0,
        ver: 0,
      };
      if (!list) {
        list = [];
        this.#byKey.set(key, list);
      }
      let i = list.length;
      while (i > 0 && list[i - 1].start > lo) i--;
      list.splice(i, 0, m);
      this.#open++;
    } else {
      const l = list as Session[];
      m = l[first];
      for (let j = first + 1; j < first + count; j++) {
        const o = l[j];
        this.columns.merge(m.acc, o.acc);
        if (o.end > m.end) m.end = o.end;
        o.alive = false;
        this.#open--;
      }
      if (count > 1) l.splice(first + 1, count - 1);
      if (lo < m.start) m.start = lo;
      if (hi > m.end) m.end = hi;
    }
    this.columns.add(m.acc, r, ts, seq);
    m.fired = m.end <= wm;
    this.#schedule(m);
    if (this.updates && m.fired) emit(key, m.start, m.end, m.acc);
    return true;
  }

  #schedule(s: Session): void {
    s.ver++;
    s.due = s.fired ? s.end + this.lateness : s.end;
    this.#heap.push({ s, due: s.due, ver: s.ver });
  }

  /** Fires and closes the sessions the watermark `wm` passed. */
  advance(wm: number, emit: EmitWindow): void {
    const heap = this.#heap;
    for (let e = heap.peek(); e !== undefined && e.due <= wm; e = heap.peek()) {
      heap.pop();
      const s = e.s;
      if (!s.alive || e.ver !== s.ver) continue;
      if (!s.fired) {
        s.fired = true;
        if (this.updates) emit(s.key, s.start, s.end, s.acc);
      }
      if (s.end + this.lateness <= wm) {
        if (!this.updates) emit(s.key, s.start, s.end, s.acc);
        this.#close(s);
      } else this.#schedule(s);
    }
  }

  #close(s: Session): void {
    s.alive = false;
    this.#open--;
    const list = this.#byKey.get(s.key);
    if (!list) return;
    const i = list.indexOf(s);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#byKey.delete(s.key);
  }

  snapshot(): { nextId: number; keys: Array<[EncodedKey, SessionSnapshot[]]> } {
    return {
      nextId: this.#nextId,
      keys: Array.from(this.#byKey, ([k, list]): [EncodedKey, SessionSnapshot[]] => [
        encodeKey(k),
        list.map((s): SessionSnapshot => [s.start, s.end, s.id, s.fired, this.columns.copy(s.acc)]),
      ]),
    };
  }

  restore(state: unknown): void {
    const st = state as ReturnType<SessionWindows<A>["snapshot"]>;
    this.#byKey.clear();
    this.#heap.clear();
    this.#open = 0;
    this.#nextId = st.nextId;
    for (const [ek, sessions] of st.keys) {
      const key = decodeKey(ek);
      const list = sessions.map(
        ([start, end, id, fired, acc]): Session => ({
          key,
          start,
          end,
          id,
          fired,
          acc,
          alive: true,
          due: 0,
          ver: 0,
        }),
      );
      this.#byKey.set(key, list);
      for (const s of list) {
        this.#open++;
        this.#schedule(s);
      }
    }
  }
}
