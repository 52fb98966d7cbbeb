/**
 * @module The event-time watermark of one stage: the largest event time seen
 * minus the out-of-order bound, and never moving back. With a `partition`
 * function it is the minimum over the partitions seen, so one slow input
 * holds it back rather than having its records declared late.
 *
 * Idleness (`idle`): a partition that sent nothing for `idle` of processing
 * time (the run's clock, never `Date.now`) stops holding the watermark back
 * until it sends again. Silence is measured on a clock that runs only while
 * the stage is fed: each gap between two chunks counts at most half of
 * `idle`, so a stage stalled by backpressure (no chunk for a long time, then
 * a burst) never declares a partition idle; a partition must stay silent
 * across chunks of the others. A source that knows its partitions (a broker)
 * could say so itself; the engine has no such signal yet.
 */

/** A partition's id, as the `partition` option returns it. */
export type PartitionId = string | number;

interface Part {
  max: number;
  /** The fed clock when the partition last sent a record. */
  seen: number;
}

export interface WatermarkSnapshot {
  readonly value: number;
  readonly maxSeen: number;
  readonly parts: Array<[PartitionId, number]>;
}

export class Watermark {
  #value = Number.NEGATIVE_INFINITY;
  /** The largest event time seen (any partition). */
  maxSeen = Number.NEGATIVE_INFINITY;
  readonly #parts = new Map<PartitionId, Part>();
  /** Processing time while fed (see the module comment). */
  #fed = 0;
  #lastChunkAt = Number.NaN;

  constructor(
    readonly bound: number,
    readonly idleMs: number | undefined,
    readonly partitioned: boolean,
  ) {}

  get value(): number {
    return this.#value;
  }

  /** Partitions seen so far. */
  get partitions(): number {
    return this.#parts.size;
  }

  /** Called once per chunk with the run clock's monotonic time. */
  tick(now: number): void {
    if (this.idleMs !== undefined && !Number.isNaN(this.#lastChunkAt)) {
      this.#fed += Math.min(Math.max(0, now - this.#lastChunkAt), this.idleMs / 2);
    }
    this.#lastChunkAt = now;
  }

  /** Takes a record's event time; returns true when the watermark moved. */
  observe(ts: number, partition?: PartitionId): boolean {
    if (ts > this.maxSeen) this.maxSeen = ts;
    let next: number;
    if (!this.partitioned) next = this.maxSeen - this.bound;
    else {
      const id = partition ?? "";
      let p = this.#parts.get(id);
      if (!p) {
        p = { max: ts, seen: this.#fed };
        this.#parts.set(id, p);
      }
      if (ts > p.max) p.max = ts;
      p.seen = this.#fed;
      next = this.#minOverActive(p);
    }
    if (next > this.#value) {
      this.#value = next;
      return true;
    }
    return false;
  }

  /** The minimum over partitions not idle (the one that just sent is active). */
  #minOverActive(current: Part): number {
    let min = Number.POSITIVE_INFINITY;
    const idle = this.idleMs;
    for (const p of this.#parts.values()) {
      if (p !== current && idle !== undefined && this.#fed - p.seen >= idle) continue;
      if (p.max < min) min = p.max;
    }
    return min - this.bound;
  }

  /** End of input: the final watermark closes every window. */
  finish(): void {
    this.#value = Number.POSITIVE_INFINITY;
  }

  snapshot(): WatermarkSnapshot {
    return {
      value: this.#value,
      maxSeen: this.maxSeen,
      parts: Array.from(this.#parts, ([id, p]) => [id, p.max]),
    };
  }

  /** Restores a snapshot; every partition counts as just seen (silence restarts on resume). */
  restore(s: WatermarkSnapshot): void {
    this.#value = s.value;
    this.maxSeen = s.maxSeen;
    this.#parts.clear();
    this.#fed = 0;
    this.#lastChunkAt = Number.NaN;
    for (const [id, max] of s.parts) this.#parts.set(id, { max, seen: 0 });
  }
}
