/**
 * @module The state of tumbling and sliding windows: one bucket per window
 * `[start, end)` — they are aligned, so every key shares them — holding an
 * accumulator per key in first-seen order. Buckets stay sorted by end (input
 * is mostly in order, so a new bucket is appended). The state is bounded by
 * the windows still open (those within the out-of-order bound and the
 * lateness of the watermark) times their keys, never by the input.
 */
import type { Key } from "../dedupe.ts";
import { decodeKey, type EncodedKey, encodeKey } from "./keys.ts";
import type { Acc, Columns } from "./window-columns.ts";

/** Called for each result a window gives. */
export type EmitWindow = (key: Key, start: number, end: number, acc: Acc) => void;

interface Bucket {
  readonly start: number;
  readonly end: number;
  readonly keys: Map<Key, Acc>;
  fired: boolean;
}

type BucketSnapshot = [start: number, fired: boolean, keys: Array<[EncodedKey, Acc]>];

export class AlignedWindows<A> {
  #buckets: Bucket[] = [];
  readonly #byStart = new Map<number, Bucket>();
  /** The watermark at which the next bucket fires or closes. */
  #nextDue = Number.POSITIVE_INFINITY;
  #last: Bucket | undefined;

  constructor(
    readonly size: number,
    readonly every: number,
    readonly lateness: number,
    readonly updates: boolean,
    readonly columns: Columns<A>,
  ) {}

  /** Windows (window, key pairs) held. */
  get open(): number {
    let n = 0;
    for (const b of this.#buckets) n += b.keys.size;
    return n;
  }

  /** Starts of the windows holding `ts`, latest first. */
  startsOf(ts: number): number[] {
    const last = Math.floor(ts / this.every) * this.every;
    if (this.every === this.size) return [last];
    const out: number[] = [];
    for (let s = last; s > ts - this.size; s -= this.every) out.push(s);
    return out;
  }

  /**
   * Adds a record to every window of `ts` still held at watermark `wm`;
   * returns false when all of them are closed (the record is too late).
   * Windows that already fired re-emit at once in `updates` mode.
   */
  add(r: A, ts: number, seq: number, key: Key, wm: number, emit: EmitWindow): boolean {
    let accepted = false;
    const size = this.size;
    const last = Math.floor(ts / this.every) * this.every;
    for (let s = last; s > ts - size; s -= this.every) {
      const end = s + size;
      if (end + this.lateness <= wm) continue;
      const b = this.#bucket(s, wm);
      let acc = b.keys.get(key);
      if (!acc) {
        acc = this.columns.create();
        b.keys.set(key, acc);
      }
      this.columns.add(acc, r, ts, seq);
      accepted = true;
      if (this.updates && b.fired) emit(key, s, end, acc);
    }
    return accepted;
  }

  #bucket(start: number, wm: number): Bucket {
    const cached = this.#last;
    if (cached !== undefined && cached.start === start) return cached;
    let b = this.#byStart.get(start);
    if (!b) {
      const end = start + this.size;
      b = { start, end, keys: new Map(), fired: end <= wm };
      this.#byStart.set(start, b);
      const bs = this.#buckets;
      let i = bs.length;
      while (i > 0 && bs[i - 1].start > start) i--;
      bs.splice(i, 0, b);
      const due = b.fired ? end + this.lateness : end;
      if (due < this.#nextDue) this.#nextDue = due;
    }
    this.#last = b;
    return b;
  }

  /** Fires and closes the windows the watermark `wm` passed, in order of their end. */
  advance(wm: number, emit: EmitWindow): void {
    if (wm < this.#nextDue) return;
    const bs = this.#buckets;
    let drop = 0;
    let next = Number.POSITIVE_INFINITY;
    for (const b of bs) {
      if (b.end > wm) {
        if (b.end < next) next = b.end;
        break;
      }
      if (!b.fired) {
        b.fired = true;
        if (this.updates) for (const [k, acc] of b.keys) emit(k, b.start, b.end, acc);
      }
      if (b.end + this.lateness <= wm) {
        if (!this.updates) for (const [k, acc] of b.keys) emit(k, b.start, b.end, acc);
        this.#byStart.delete(b.start);
        if (this.#last === b) this.#last = undefined;
        drop++;
      } else if (b.end + this.lateness < next) next = b.end + this.lateness;
    }
    if (drop) this.#buckets = bs.filter((b) => this.#byStart.has(b.start));
    this.#nextDue = next;
  }

  snapshot(): BucketSnapshot[] {
    return this.#buckets.map((b) => [
      b.start,
      b.fired,
      Array.from(b.keys, ([k, acc]): [EncodedKey, Acc] => [encodeKey(k), this.columns.copy(acc)]),
    ]);
  }

  restore(state: unknown): void {
    this.#buckets = [];
    this.#byStart.clear();
    this.#last = undefined;
    let next = Number.POSITIVE_INFINITY;
    for (const [start, fired, keys] of state as BucketSnapshot[]) {
      const b: Bucket = {
        start,
        end: start + this.size,
        fired,
        keys: new Map(keys.map(([k, acc]) => [decodeKey(k), acc])),
      };
      this.#buckets.push(b);
      this.#byStart.set(start, b);
      const due = fired ? b.end + this.lateness : b.end;
      if (due < next) next = due;
    }
    this.#nextDue = next;
  }
}
