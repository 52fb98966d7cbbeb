/**
 * @module Re-chunking a stream of chunks to a size a `Sizer` decides: merges
 * small chunks and splits big ones. A barrier flushes the partial chunk and
 * then passes, so a checkpoint covers exactly the records before it; a chunk
 * keeps its input's `start`/`end` offset only where its edge is the input's
 * edge. Shared by the `chunk` operator and the runner's adaptive source chunk
 * size, so both keep the same checkpoint semantics.
 */
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
import * as Pull from "effect/Pull";
import * as Stream from "effect/Stream";
import type { Chunk } from "../chunk.ts";

/**
 * Decides how many records of an incoming chunk go into the output chunk
 * being built. `fill` sets `taken` and `takenBytes` and says whether the
 * output chunk is then full. A chunk is never empty: at least one record is
 * always taken.
 */
export interface Sizer<A> {
  /** Per-record estimate for an incoming chunk (`bytes / records` when the source knows). */
  perRecord(records: ReadonlyArray<A>, bytes: number): number;
  fill(rows: number, bytes: number, records: ReadonlyArray<A>, i: number, perRecord: number): boolean;
  taken: number;
  takenBytes: number;
}

/** Fixed rows; `rows` is read per call (adaptive policies change it between chunks). */
export function rowsSizer<A>(rows: () => number): Sizer<A> {
  return {
    taken: 0,
    takenBytes: 0,
    perRecord: (records, bytes) => (records.length ? bytes / records.length : 0),
    fill(buffered, _bytes, records, i, per) {
      const room = Math.max(1, rows() - buffered);
      this.taken = Math.min(room, records.length - i);
      this.takenBytes = this.taken * per;
      return this.taken === room;
    },
  };
}

/** Called as output is handed downstream, and before the next pull (the downstream is then done with it). */
export interface RechunkObserver<A> {
  handedOut(out: ReadonlyArray<Chunk<A>>): void;
  beforePull(): void;
}

type NonEmpty<A> = [Chunk<A>, ...Chunk<A>[]];
const END: unique symbol = Symbol("end of input");

export function rechunk<A, E>(
  input: Stream.Stream<Chunk<A>, E>,
  sizer: Sizer<A>,
  observer?: RechunkObserver<A>,
): Stream.Stream<Chunk<A>, E> {
  // The output chunk being built.
  let buf: A[] = [];
  let bufBytes = 0;
  let head: Chunk<A> | undefined;
  let headStart: Chunk<A>["start"];
  let tailEnd: Chunk<A>["end"];

  const flush = (out: Chunk<A>[]) => {
    if (!head) return;
    out.push({
      records: buf,
      seq: head.seq,
      start: headStart,
      end: tailEnd,
      bytes: bufBytes,
      createdAt: head.createdAt,
    });
    buf = [];
    bufBytes = 0;
    head = undefined;
  };

  const add = (c: Chunk<A>, out: Chunk<A>[]) => {
    const recs = c.records;
    const n = recs.length;
    const per = sizer.perRecord(recs, c.bytes);
    let i = 0;
    while (i < n) {
      const full = sizer.fill(buf.length, bufBytes, recs, i, per);
      const k = sizer.taken;
      const start = i === 0 ? c.start : undefined;
      const end = i + k === n ? c.end : undefined;
      if (!head && full) {
        // A whole output chunk from one input: no copy when it is the entire input.
        const records = i === 0 && k === n ? recs : recs.slice(i, i + k);
        out.push({ records, seq: c.seq, start, end, bytes: sizer.takenBytes, createdAt: c.createdAt });
      } else {
        if (!head) {
          head = c;
          headStart = start;
        }
        for (let j = i; j < i + k; j++) buf.push(recs[j]);
        bufBytes += sizer.takenBytes;
        tailEnd = end;
        if (full) flush(out);
      }
      i += k;
    }
  };

  return Stream.transformPull(input, (pull) =>
    Effect.sync(() => {
      let ended = false;

      const handOut = (out: NonEmpty<A>): Effect.Effect<NonEmpty<A>> => {
        observer?.handedOut(out);
        return Effect.succeed(out);
      };

      const step = (
        arr: ReadonlyArray<Chunk<A>> | typeof END,
      ): Effect.Effect<NonEmpty<A>, E | Cause.Done> => {
        const out: Chunk<A>[] = [];
        if (arr === END) {
          flush(out);
          return out.length ? handOut(out as NonEmpty<A>) : Cause.done();
        }
        for (let i = 0; i < arr.length; i++) {
          const c = arr[i];
          if (c.barrier) {
            flush(out);
            out.push(c);
          } else add(c, out);
        }
        return out.length ? handOut(out as NonEmpty<A>) : loop;
      };

      // Pulls until there is output (small inputs are merged without emitting).
      const loop: Effect.Effect<NonEmpty<A>, E | Cause.Done> = Effect.suspend(() => {
        if (ended) return Cause.done();
        const pulled = Pull.catchDone(pull, () => {
          ended = true;
          return Effect.succeed(END);
        });
        return Effect.flatMap(pulled, step);
      });

      return observer
        ? Effect.suspend(() => {
            observer.beforePull();
            return loop;
          })
        : loop;
    }),
  );
}
