/**
 * @module Entering the pipeline at a stage. A redrive's chunks carry the
 * stage their letter failed at (`start.$entry`, 1-based; 0 or none: from
 * the first stage); `gated(op, k)` runs stage k only on chunks that entered
 * at or before it, and passes the others through untouched, in order.
 *
 * A `chunk` stage just returns such a chunk's records. A `stream` stage
 * (parallelMap, rx, re-chunking) sees it as a checkpoint barrier of its own
 * — stream stages pass barriers through in order, after the chunks before
 * them — and it is turned back into the chunk after the stage. Chunks a
 * stage did process carry an entry at or before it, so every later stage
 * processes them too.
 *
 * A stage's side outputs (a window's `late` sink) are opened to append, as
 * the redrive's main sink is: they hold the first run's output.
 */
import * as Stream from "effect/Stream";
import type { Barrier, Chunk } from "../pipeline/chunk.ts";
import type { SluiceError } from "../pipeline/errors.ts";
import {
  type Operator,
  OperatorTypeId,
  type Sink,
  type Stage,
  type StageContext,
} from "../pipeline/types.ts";

/** The chunk's entry stage (0: the first stage). */
export function entryOf(chunk: Chunk<unknown>): number {
  const e = chunk.start?.$entry;
  return typeof e === "number" ? e : 0;
}

export function gated(op: Operator<unknown, unknown>, k: number): Operator<unknown, unknown> {
  return {
    [OperatorTypeId]: true,
    name: op.name,
    cardinality: op.cardinality,
    make(ctx: StageContext): Stage<unknown, unknown> {
      const st = op.make({
        ...ctx,
        sideOutput: <T>(name: string, sink: Sink<T>) => ctx.sideOutput(name, appending(sink)),
      });
      const hooks = {
        snapshot: st.snapshot && (() => st.snapshot?.()),
        restore: st.restore && ((s: unknown) => st.restore?.(s)),
        end: st.end && (() => st.end?.() ?? []),
        close: st.close && (() => st.close?.()),
        start: st.start && (() => st.start?.() ?? Promise.resolve()),
      };
      if (st.type === "chunk") {
        return {
          ...hooks,
          type: "chunk",
          process: (records, chunk) => (entryOf(chunk) > k ? records : st.process(records, chunk)),
        };
      }
      const hidden = new WeakMap<Barrier, Chunk<unknown>>();
      return {
        ...hooks,
        type: "stream",
        apply(input: Stream.Stream<Chunk<unknown>, SluiceError>) {
          const hide = Stream.map(input, (c: Chunk<unknown>) => {
            if (c.barrier || entryOf(c) <= k) return c;
            const barrier: Barrier = { id: -1, offset: undefined, final: false, snapshots: {} };
            hidden.set(barrier, c);
            return { records: [], seq: c.seq, bytes: 0, createdAt: c.createdAt, barrier };
          });
          return Stream.map(st.apply(hide), (c: Chunk<unknown>) => (c.barrier && hidden.get(c.barrier)) || c);
        },
      };
    },
  };
}

/** `sink`, opened to add to what its target holds. */
function appending<T>(sink: Sink<T>): Sink<T> {
  return { ...sink, open: (c) => sink.open({ ...c, append: true }) };
}
