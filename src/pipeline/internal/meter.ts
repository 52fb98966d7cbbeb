/**
 * @module Per-stage counters, counted in place on the hot path (a few adds per
 * chunk) and flushed as one `stage.progress` event per interval (DESIGN §9:
 * no per-record event).
 *
 * What the time figures mean, for every stage kind (docs/metrics.md):
 * - **latency** (the histogram): wall time of one chunk through the stage,
 *   from the moment the stage takes it to the moment its output is ready.
 * - **busy time** (`busyMs`): wall time during which the stage had at least
 *   one chunk (or call) in progress. Overlapping chunks count once, so busy
 *   time never exceeds the interval.
 * - **CPU time** (`cpuMs`): time the stage's own code held a thread: the
 *   synchronous part of its calls. A sync stage's CPU time is its busy time;
 *   an async stage's is the time its calls ran before returning a promise.
 *   Only stages that measure it report it (`undefined` otherwise: source,
 *   sink, and parallelMap, whose code runs on workers).
 * - **wait time** = busy − CPU (never below 0): in progress, but waiting on
 *   timers, I/O or workers. Derived where it is shown, not sent.
 */

import { Histogram } from "../../events/histogram.ts";
import type { EventInput } from "../../events/schema.ts";

export interface StageTotals {
  stage: string;
  rowsIn: number;
  rowsOut: number;
  filtered: number;
  deadLettered: number;
  /** Records the stage sent to a side output (a window's `late` sink) instead of its output. */
  sideOutput: number;
  errors: number;
  busyMs: number;
  /** Undefined until the stage reports CPU time. */
  cpuMs?: number;
  chunks: number;
}

export class StageMeter {
  readonly totals: StageTotals;
  // interval deltas
  #chunks = 0;
  #rowsIn = 0;
  #rowsOut = 0;
  #filtered = 0;
  #dead = 0;
  #side = 0;
  #errors = 0;
  #bytes = 0;
  #busy = 0;
  #cpu = 0;
  /** Sticky: once the stage reports CPU time, every flush carries it (0 included). */
  #cpuKnown = false;
  #hist = new Histogram();
  #lastFlush: number;

  constructor(
    readonly stage: string,
    readonly index: number,
    now: number,
  ) {
    this.totals = {
      stage,
      rowsIn: 0,
      rowsOut: 0,
      filtered: 0,
      deadLettered: 0,
      sideOutput: 0,
      errors: 0,
      busyMs: 0,
      chunks: 0,
    };
    this.#lastFlush = now;
  }

  /** Restores cumulative totals from a checkpoint (resume). */
  restore(t: Partial<StageTotals>): void {
    Object.assign(this.totals, {
      rowsIn: t.rowsIn ?? 0,
      rowsOut: t.rowsOut ?? 0,
      filtered: t.filtered ?? 0,
      deadLettered: t.deadLettered ?? 0,
      sideOutput: t.sideOutput ?? 0,
    });
  }

  in(rows: number, bytes: number): void {
    this.#rowsIn += rows;
    this.totals.rowsIn += rows;
    this.#bytes += bytes;
  }

  out(rows: number): void {
    this.#rowsOut += rows;
    this.totals.rowsOut += rows;
  }

  filtered(rows: number): void {
    this.#filtered += rows;
    this.totals.filtered += rows;
  }

  dead(rows: number): void {
    this.#dead += rows;
    this.totals.deadLettered += rows;
  }

  side(rows: number): void {
    this.#side += rows;
    this.totals.sideOutput += rows;
  }

  error(): void {
    this.#errors++;
    this.totals.errors++;
  }

  /** One chunk processed in `ms` of wall time, one at a time (latency and busy time). */
  chunk(ms: number): void {
    this.latency(ms);
    this.#busy += ms;
    this.totals.busyMs += ms;
  }

  /** One chunk's latency, for stages that report busy time themselves (overlapping chunks). */
  latency(ms: number): void {
    this.#chunks++;
    this.totals.chunks++;
    this.#hist.record(ms);
  }

  /** CPU time: the synchronous part of the stage's work (see the module header). */
  cpu(ms: number): void {
    this.#cpuKnown = true;
    this.#cpu += ms;
    this.totals.cpuMs = (this.totals.cpuMs ?? 0) + ms;
  }

  /** Busy time reported by the stage itself (async stages). */
  busy(ms: number): void {
    this.#busy += ms;
    this.totals.busyMs += ms;
  }

  /** The interval's figures as an event, or undefined if nothing happened. */
  flush(now: number, queueDepth?: number): EventInput | undefined {
    const intervalMs = now - this.#lastFlush;
    this.#lastFlush = now;
    if (
      this.#chunks === 0 &&
      this.#rowsIn === 0 &&
      this.#rowsOut === 0 &&
      this.#dead === 0 &&
      this.#side === 0
    )
      return undefined;
    const ev: EventInput = {
      kind: "stage.progress",
      stage: this.stage,
      index: this.index,
      chunks: this.#chunks,
      rowsIn: this.#rowsIn,
      rowsOut: this.#rowsOut,
      filtered: this.#filtered,
      deadLettered: this.#dead,
      ...(this.#side ? { sideOutput: this.#side } : {}),
      errors: this.#errors,
      bytes: this.#bytes,
      busyMs: this.#busy,
      cpuMs: this.#cpuKnown ? this.#cpu : undefined,
      intervalMs,
      queueDepth,
      latency: this.#hist.toData(),
    };
    this.#chunks =
      this.#rowsIn =
      this.#rowsOut =
      this.#filtered =
      this.#dead =
      this.#side =
      this.#errors =
      this.#bytes =
        0;
    this.#busy = 0;
    this.#cpu = 0;
    this.#hist.reset();
    return ev;
  }
}
