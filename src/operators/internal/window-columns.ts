/**
 * @module The output columns of a window: `aggregate`'s specs (`"count"`,
 * `[fn, field]`) plus user reducers, compiled once into a flat accumulator
 * layout. One accumulator is a plain array per (window, key) — slot 0 counts
 * its records, then each column's slots — so state snapshots copy arrays of
 * numbers, and session windows merge two accumulators column by column.
 *
 * `first` and `last` follow event time (ties: arrival order), not arrival
 * alone: in a window over out-of-order input the first record is the
 * earliest one, and that stays true when sessions merge.
 */
import { ConfigError } from "../../pipeline/errors.ts";
import type { AggregateSpec } from "../aggregate.ts";

/**
 * A user aggregate for what the built-in specs do not compute. State must be
 * msgpack-serialisable (numbers, strings, arrays, plain objects): it is part
 * of checkpoints. `add` may return a new state or the updated one. Session
 * windows need `merge` (two sessions join when a record bridges them).
 *
 * @example
 * ```ts
 * const distinctUsers = { init: () => [] as string[], add: (s: string[], o: Order) => (s.includes(o.user) ? s : [...s, o.user]), merge: (a: string[], b: string[]) => [...new Set([...a, ...b])], result: (s: string[]) => s.length };
 * ```
 */
export interface Reducer<A, S, R = S> {
  init(): S;
  add(state: S, record: A): S;
  merge?(a: S, b: S): S;
  result?(state: S): R;
}

/** One output column of a window: a built-in spec or a reducer. */
export type WindowColumn<A> = AggregateSpec<A> | Reducer<A, unknown, unknown>;

/** The value type of a column in the output record. */
export type ColumnValue<C> =
  C extends Reducer<never, infer S, infer R>
    ? unknown extends R
      ? S
      : R
    : C extends "count"
      ? number
      : unknown;

// Column kinds (numbers: the per-record loop switches on them).
const COUNT = 0;
const SUM = 1;
const AVG = 2;
const MIN = 3;
const MAX = 4;
const FIRST = 5;
const LAST = 6;
const REDUCE = 7;
const KINDS: Record<string, number> = { sum: SUM, avg: AVG, min: MIN, max: MAX, first: FIRST, last: LAST };
/** Slots per kind (after the shared record count in slot 0). */
const WIDTH = [0, 1, 2, 1, 1, 3, 3, 1];

/** An accumulator: slot 0 is the record count, then each column's slots. */
export type Acc = unknown[];

type Adder<A> = (acc: Acc, r: A, ts: number, seq: number, empty: boolean) => void;

function isReducer(v: unknown): v is Reducer<unknown, unknown, unknown> {
  return (
    typeof v === "object" &&
    v !== null &&
    typeof (v as Reducer<unknown, unknown>).init === "function" &&
    typeof (v as Reducer<unknown, unknown>).add === "function"
  );
}

export class Columns<A> {
  readonly names: string[] = [];
  readonly #kinds: number[] = [];
  readonly #fields: string[] = [];
  readonly #offsets: number[] = [];
  readonly #reducers: Array<Reducer<A, unknown, unknown> | undefined> = [];
  readonly #adders: Adder<A>[] = [];
  readonly width: number;
  readonly hasReducer: boolean;

  constructor(operator: string, spec: Record<string, WindowColumn<A>> | undefined, needMerge: boolean) {
    const entries = Object.entries(spec ?? {});
    if (entries.length === 0) {
      throw new ConfigError(`${operator}: give at least one output column in aggregate, e.g. { n: "count" }`);
    }
    let off = 1;
    let reducers = false;
    for (const [name, col] of entries) {
      let kind: number | undefined;
      if (col === "count") kind = COUNT;
      else if (Array.isArray(col) && typeof col[1] === "string") kind = KINDS[col[0] as string];
      else if (isReducer(col)) {
        kind = REDUCE;
        reducers = true;
        if (needMerge && typeof col.merge !== "function") {
          throw new ConfigError(`${operator}: reducer column "${name}" has no merge function`, {
            hint: "Session windows join when a record bridges two of them: give the reducer merge(a, b).",
          });
        }
      }
      if (kind === undefined) {
        throw new ConfigError(`${operator}: column "${name}" has an unknown spec ${safe(col)}`, {
          hint: 'Use "count", [fn, field] with fn one of sum, min, max, avg, first, last, or a reducer { init, add, merge?, result? }.',
        });
      }
      this.names.push(name);
      this.#kinds.push(kind);
      this.#fields.push(kind === REDUCE || kind === COUNT ? "" : (col as readonly [string, string])[1]);
      this.#reducers.push(kind === REDUCE ? (col as Reducer<A, unknown, unknown>) : undefined);
      this.#offsets.push(off);
      off += WIDTH[kind];
    }
    this.width = off;
    this.hasReducer = reducers;
    for (let c = 0; c < this.#kinds.length; c++) {
      const adder = this.#adder(this.#kinds[c], this.#offsets[c], this.#fields[c], this.#reducers[c]);
      if (adder) this.#adders.push(adder);
    }
  }

  /**
   * One function per column with its field and slot fixed, so each property read
   * site sees one field name (the per-record path does no switch on the kind).
   */
  #adder(
    k: number,
    o: number,
    field: string,
    red: Reducer<A, unknown, unknown> | undefined,
  ): Adder<A> | undefined {
    const get = (r: A) => (r as Record<string, unknown>)[field];
    switch (k) {
      case SUM:
        return (acc, r) => {
          acc[o] = (acc[o] as number) + Number(get(r));
        };
      case AVG:
        return (acc, r) => {
          acc[o] = (acc[o] as number) + Number(get(r));
          acc[o + 1] = (acc[o + 1] as number) + 1;
        };
      case MIN:
        return (acc, r, _ts, _seq, empty) => {
          const v = get(r);
          if (empty || (v as number) < (acc[o] as number)) acc[o] = v;
        };
      case MAX:
        return (acc, r, _ts, _seq, empty) => {
          const v = get(r);
          if (empty || (v as number) > (acc[o] as number)) acc[o] = v;
        };
      case FIRST:
        return (acc, r, ts, seq, empty) => {
          if (empty || ts < (acc[o + 1] as number)) {
            acc[o] = get(r);
            acc[o + 1] = ts;
            acc[o + 2] = seq;
          }
        };
      case LAST:
        return (acc, r, ts, seq, empty) => {
          if (empty || ts >= (acc[o + 1] as number)) {
            acc[o] = get(r);
            acc[o + 1] = ts;
            acc[o + 2] = seq;
          }
        };
      case REDUCE: {
        const reducer = red as Reducer<A, unknown>;
        return (acc, r) => {
          acc[o] = reducer.add(acc[o], r);
        };
      }
    }
    return undefined;
  }

  /** An empty accumulator (no records yet). */
  create(): Acc {
    const acc: Acc = new Array(this.width).fill(0);
    for (let c = 0; c < this.#kinds.length; c++) {
      const k = this.#kinds[c];
      const o = this.#offsets[c];
      if (k === MIN || k === MAX) acc[o] = null;
      else if (k === FIRST || k === LAST) acc[o] = null;
      else if (k === REDUCE) acc[o] = (this.#reducers[c] as Reducer<A, unknown>).init();
    }
    return acc;
  }

  /** Adds one record with event time `ts` and arrival number `seq`. */
  add(acc: Acc, r: A, ts: number, seq: number): void {
    const empty = acc[0] === 0;
    acc[0] = (acc[0] as number) + 1;
    const adders = this.#adders;
    for (let c = 0; c < adders.length; c++) adders[c](acc, r, ts, seq, empty);
  }

  /**
   * Merges `b` into `a` (session windows; `a` is the session that starts
   * first). `first`/`last` compare (event time, arrival number), so a merge
   * gives what adding every record to one accumulator would have given.
   */
  merge(a: Acc, b: Acc): void {
    a[0] = (a[0] as number) + (b[0] as number);
    const kinds = this.#kinds;
    for (let c = 0; c < kinds.length; c++) {
      const k = kinds[c];
      const o = this.#offsets[c];
      switch (k) {
        case SUM:
          a[o] = (a[o] as number) + (b[o] as number);
          break;
        case AVG:
          a[o] = (a[o] as number) + (b[o] as number);
          a[o + 1] = (a[o + 1] as number) + (b[o + 1] as number);
          break;
        case MIN:
          if ((b[o] as number) < (a[o] as number)) a[o] = b[o];
          break;
        case MAX:
          if ((b[o] as number) > (a[o] as number)) a[o] = b[o];
          break;
        case FIRST:
          if (before(b, a, o)) copySlots(a, b, o);
          break;
        case LAST:
          if (before(a, b, o)) copySlots(a, b, o);
          break;
        case REDUCE: {
          const red = this.#reducers[c] as Reducer<A, unknown>;
          a[o] = (red.merge as (x: unknown, y: unknown) => unknown)(a[o], b[o]);
          break;
        }
      }
    }
  }

  /** Writes each column's value into `out`. */
  result(acc: Acc, out: Record<string, unknown>): void {
    const kinds = this.#kinds;
    for (let c = 0; c < kinds.length; c++) {
      const k = kinds[c];
      const o = this.#offsets[c];
      const name = this.names[c];
      if (k === COUNT) out[name] = acc[0];
      else if (k === AVG) out[name] = (acc[o] as number) / (acc[o + 1] as number);
      else if (k === REDUCE) {
        const red = this.#reducers[c] as Reducer<A, unknown, unknown>;
        out[name] = red.result ? red.result(acc[o]) : acc[o];
      } else out[name] = acc[o];
    }
  }

  /** A copy for a snapshot (the live accumulator keeps changing after the barrier). */
  copy(acc: Acc): Acc {
    if (!this.hasReducer) return acc.slice();
    const c = acc.slice();
    for (let i = 0; i < this.#kinds.length; i++) {
      if (this.#kinds[i] === REDUCE) c[this.#offsets[i]] = structuredClone(c[this.#offsets[i]]);
    }
    return c;
  }
}

/** Whether x's record at slots o.. (value, time, arrival) comes before y's. */
function before(x: Acc, y: Acc, o: number): boolean {
  const xt = x[o + 1] as number;
  const yt = y[o + 1] as number;
  return xt < yt || (xt === yt && (x[o + 2] as number) < (y[o + 2] as number));
}

function copySlots(to: Acc, from: Acc, o: number): void {
  to[o] = from[o];
  to[o + 1] = from[o + 1];
  to[o + 2] = from[o + 2];
}

function safe(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
