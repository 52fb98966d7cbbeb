/**
 * @module How big `chunk` makes its chunks: a fixed row count, a byte budget
 * (records measured by the incoming chunk's byte estimate, a `sizeOf`
 * function, or a sampled structural estimate), or an adaptive row count that
 * follows the time the downstream takes per chunk. Kept apart from the
 * re-chunking loop so each policy is a few lines and testable on its own.
 */

import type { Sizer } from "../../pipeline/internal/rechunk.ts";

export { rowsSizer, type Sizer } from "../../pipeline/internal/rechunk.ts";

/** A byte budget per chunk. */
export function bytesSizer<A>(target: number, sizeOf: ((record: A) => number) | undefined): Sizer<A> {
  return {
    taken: 0,
    takenBytes: 0,
    perRecord(records, bytes) {
      if (sizeOf || records.length === 0) return 0;
      return bytes > 0 ? bytes / records.length : sampledBytes(records);
    },
    fill(_buffered, bytes, records, i, per) {
      const room = target - bytes;
      const left = records.length - i;
      if (!sizeOf) {
        const fits = per > 0 ? Math.max(1, Math.ceil(room / per)) : left + 1;
        this.taken = Math.min(fits, left);
        this.takenBytes = this.taken * per;
        return this.taken === fits;
      }
      let n = 0;
      let used = 0;
      while (n < left && (n === 0 || used < room)) used += sizeOf(records[i + n++]);
      this.taken = n;
      this.takenBytes = used;
      return used >= room;
    },
  };
}

/** Average structural size of up to 8 records spread over the array (no JSON, no per-record pass). */
function sampledBytes(records: ReadonlyArray<unknown>): number {
  const n = records.length;
  const samples = Math.min(8, n);
  let total = 0;
  for (let k = 0; k < samples; k++) total += estimateBytes(records[Math.floor((k * n) / samples)], 0);
  return total / samples;
}

/** A rough in-memory size: 8 per number, 2 per string character, plus keys; depth-limited. */
export function estimateBytes(v: unknown, depth: number): number {
  switch (typeof v) {
    case "number":
    case "bigint":
      return 8;
    case "boolean":
      return 4;
    case "string":
      return 16 + 2 * v.length;
    case "object": {
      if (v === null) return 4;
      if (depth > 4) return 64;
      if (v instanceof Uint8Array) return 32 + v.byteLength;
      if (v instanceof Date) return 24;
      if (Array.isArray(v)) {
        let s = 16;
        const step = Math.max(1, Math.floor(v.length / 32));
        for (let i = 0; i < v.length; i += step) s += estimateBytes(v[i], depth + 1) * step;
        return s;
      }
      let s = 24;
      for (const k in v) s += 8 + 2 * k.length + estimateBytes((v as Record<string, unknown>)[k], depth + 1);
      return s;
    }
    default:
      return 8;
  }
}

export interface AdaptiveSettings {
  readonly targetMs: number;
  readonly min: number;
  readonly max: number;
  readonly initial: number;
}

/** A change of the adaptive size, with the reason for the `config.changed` event. */
export interface SizeChange {
  readonly from: number;
  readonly to: number;
  readonly reason: string;
}

/**
 * The adaptive row count. It sees how long the downstream took for each
 * batch of rows it was handed, keeps a smoothed per-row time and, after two
 * observations at the current size, projects the time of a full chunk:
 * over the target it shrinks to 90% of the target; under half the target it
 * doubles (capped at 90% of the target and at `max`). The band between half
 * and all of the target is where it settles, so it does not oscillate.
 */
export class AdaptiveSize {
  rows: number;
  #perRow = 0;
  #seen = 0;

  constructor(readonly settings: AdaptiveSettings) {
    this.rows = settings.initial;
  }

  /** The downstream took `ms` for `rows` rows; returns a change to apply, if any. */
  observe(ms: number, rows: number): SizeChange | undefined {
    if (rows <= 0 || !(ms >= 0)) return undefined;
    const x = ms / rows;
    this.#perRow = this.#seen === 0 ? x : 0.5 * this.#perRow + 0.5 * x;
    if (++this.#seen < 2) return undefined;
    const { targetMs, min, max } = this.settings;
    const projected = this.#perRow * this.rows;
    const fit = this.#perRow > 0 ? Math.floor((0.9 * targetMs) / this.#perRow) : max;
    let to = this.rows;
    let why = "";
    if (projected > targetMs && this.rows > min) {
      to = Math.max(min, Math.min(this.rows - 1, fit));
      why = "over";
    } else if (projected < targetMs / 2 && this.rows < max) {
      to = Math.min(max, 2 * this.rows, Math.max(fit, this.rows));
      why = "under half";
    }
    if (to === this.rows) return undefined;
    const change: SizeChange = {
      from: this.rows,
      to,
      reason: `downstream took ${round(projected)} ms per ${this.rows}-row chunk (${why} the ${targetMs} ms target)`,
    };
    this.rows = to;
    this.#seen = 0;
    return change;
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
