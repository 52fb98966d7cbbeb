/**
 * @module The meters of one run: the source's, each stage's and the sink's,
 * and the run's totals folded from them (rows in = out + filtered +
 * dead-lettered, for one-to-one and filtering stages).
 */
import type { EventInput } from "../../events/schema.ts";
import { StageMeter, type StageTotals } from "./meter.ts";

export interface RunTotals {
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly filtered: number;
  readonly dead: number;
  /** Records stages sent to side outputs (a window's `late` sink). */
  readonly side: number;
}

export class RunMeters {
  readonly source: StageMeter;
  readonly sink: StageMeter;
  /** The source's meter, then each stage's in order (the sink's is apart). */
  readonly meters: StageMeter[];

  constructor(stageCount: number, now: number) {
    this.source = new StageMeter("source", 0, now);
    this.sink = new StageMeter("sink", stageCount + 1, now);
    this.meters = [this.source];
  }

  totals(): RunTotals {
    let dead = this.sink.totals.deadLettered;
    let filtered = 0;
    let side = 0;
    for (const m of this.meters) {
      dead += m.totals.deadLettered;
      filtered += m.totals.filtered;
      side += m.totals.sideOutput;
    }
    return {
      rowsIn: this.source.totals.rowsOut + this.source.totals.deadLettered,
      // A record the sink dead-letters (a value its table cannot hold) is not out.
      rowsOut: this.sink.totals.rowsIn - this.sink.totals.deadLettered,
      filtered,
      dead,
      side,
    };
  }

  /** Emits each meter's `stage.progress` for the interval ending now. */
  flush(now: number, emit: (e: EventInput) => void): void {
    for (const m of this.meters) {
      const ev = m.flush(now);
      if (ev) emit(ev);
    }
    const ev = this.sink.flush(now);
    if (ev) emit(ev);
  }

  /** Every stage's cumulative totals, source first and sink last. */
  all(): StageTotals[] {
    return [...this.meters, this.sink].map((m) => ({ ...m.totals }));
  }
}
