/**
 * @module Checkpoint barriers (DESIGN §3): the source's chunks are counted,
 * and a barrier chunk is inserted after a chunk when the checkpoint is due
 * (by rows, or by time through a flag a timer raises), when a stop was
 * requested (then reading stops) and at the end (the final barrier). One
 * stream layer, not takeWhile + mapArray + concat: each layer costs every
 * chunk a few Effect steps.
 */
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
import * as Pull from "effect/Pull";
import * as Stream from "effect/Stream";
import type { Clock } from "../../runtime/clock.ts";
import type { Barrier, Chunk, SourceOffset } from "../chunk.ts";
import type { SluiceError } from "../errors.ts";
import type { StageMeter, StageTotals } from "./meter.ts";

/** The barrier state one run shares between its source, its timers and its sink. */
export interface BarrierHooks {
  /**
   * Each barrier's id as it leaves the source, after the chunk numbered
   * `lastSeq`: what the source did so far belongs to it, but with
   * `dropsPulled`, what it did for the pull in progress (a stop dropped it).
   */
  readonly onBarrier?: (id: number, lastSeq: number, dropsPulled: boolean) => void;
  /** Before each pull from the source: what the source does from here is for the chunks pulled. */
  readonly onPull?: () => void;
}

export class BarrierState {
  checkpointId: number;
  lastOffset: SourceOffset | undefined;
  rowsSinceCheckpoint = 0;
  lastCheckpointAt: number;
  /** Raised by the checkpoint timer; the source checks it per chunk (cheaper than reading the clock). */
  checkpointDue = false;
  /** Raised by the stop signal: the next chunk edge takes a last checkpoint and reading stops. */
  stopRequested = false;
  /** Rows per chunk the source's first chunk had (the adaptive knob starts there). */
  sourceRows = 0;
  /**
   * The source's totals as each barrier left it: the source reads on while the
   * barrier travels, so totals taken at the sink would over-count the rows a
   * resume restores.
   */
  readonly #atBarrier = new Map<number, StageTotals>();
  /** `seq` of the last chunk the source passed on (-1: none yet). */
  lastSeq = -1;

  constructor(
    readonly clock: Clock,
    readonly sourceMeter: StageMeter,
    /** Rows after which a checkpoint is due (Infinity: by time only). */
    readonly everyRows: number,
    /** The checkpoint the run resumed from, if any. */
    from: { id: number; offset: SourceOffset | undefined } | undefined,
    readonly hooks: BarrierHooks = {},
  ) {
    this.checkpointId = from?.id ?? 0;
    this.lastOffset = from?.offset;
    this.lastCheckpointAt = clock.monotonic();
  }

  /** The next barrier; `dropsPulled`: it ends a stop that dropped every chunk of the pull in progress. */
  barrier(final: boolean, dropsPulled = false): Chunk<unknown> {
    const b: Barrier = { id: ++this.checkpointId, offset: this.lastOffset, final, snapshots: {} };
    this.#atBarrier.set(b.id, { ...this.sourceMeter.totals });
    this.hooks.onBarrier?.(b.id, this.lastSeq, dropsPulled);
    this.rowsSinceCheckpoint = 0;
    this.lastCheckpointAt = this.clock.monotonic();
    this.checkpointDue = false;
    return { records: [], seq: -1, bytes: 0, createdAt: this.lastCheckpointAt, barrier: b };
  }

  /** The source's totals when barrier `id` left it (taken once, at its checkpoint). */
  sourceAt(id: number): StageTotals {
    const t = this.#atBarrier.get(id) ?? { ...this.sourceMeter.totals };
    this.#atBarrier.delete(id);
    return t;
  }
}

/**
 * The source stream with barriers. `ended` (resuming a run whose final
 * checkpoint was taken) emits one non-final barrier and nothing else.
 */
export function withBarriers(
  opened: Stream.Stream<Chunk<unknown>, SluiceError>,
  state: BarrierState,
  ended: boolean,
): Stream.Stream<Chunk<unknown>, SluiceError> {
  return Stream.transformPull(opened, (pull) =>
    Effect.sync(() => {
      let done = false;
      const last = (dropsPulled = false) => {
        done = true;
        return [state.barrier(!state.stopRequested && !ended, dropsPulled)] as [Chunk<unknown>];
      };
      const step = (arr: ReadonlyArray<Chunk<unknown>>): [Chunk<unknown>, ...Chunk<unknown>[]] => {
        let out: Chunk<unknown>[] | undefined;
        for (let i = 0; i < arr.length; i++) {
          const c = arr[i];
          // Stop reading at a pull's edge: nothing of this pull is counted or passed on (its
          // source letters are cut out with it). Barriers too fall only at a pull's edge, so
          // the source's letters of a pull, made while it was pulled, belong to one checkpoint.
          if (state.stopRequested && i === 0) {
            out = last(true);
            break;
          }
          if (state.sourceRows === 0) state.sourceRows = c.records.length;
          state.sourceMeter.out(c.records.length);
          state.sourceMeter.in(c.records.length, c.bytes);
          state.rowsSinceCheckpoint += c.records.length;
          if (c.end) state.lastOffset = c.end;
          state.lastSeq = c.seq;
          if (i === arr.length - 1 && (state.rowsSinceCheckpoint >= state.everyRows || state.checkpointDue)) {
            out ??= arr.slice(0, i);
            out.push(c, state.barrier(false));
          } else out?.push(c);
        }
        return (out ?? arr) as [Chunk<unknown>, ...Chunk<unknown>[]];
      };
      // The source ended during a pull: with a stop requested, what that pull lettered is cut out too.
      const pulled = Pull.catchDone(pull, () => Effect.sync(() => last(state.stopRequested)));
      type Out = [Chunk<unknown>, ...Chunk<unknown>[]];
      return Effect.suspend((): Effect.Effect<Out, SluiceError | Cause.Done> => {
        if (done) return Cause.done();
        state.hooks.onPull?.();
        return Effect.map(pulled, (arr) => (done ? (arr as Out) : step(arr)));
      });
    }),
  );
}
