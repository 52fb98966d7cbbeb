/**
 * @module The sink driver: writes each chunk of the composed stream to the
 * sink, counting it on the sink's meter, and hands each barrier to `commit`.
 * It stays synchronous until a write or a commit is asynchronous, so a
 * synchronous sink costs a chunk no promise.
 */
import * as Effect from "effect/Effect";
import * as Stream from "effect/Stream";
import type { Clock } from "../../runtime/clock.ts";
import type { Barrier, Chunk } from "../chunk.ts";
import { describeError, SinkError, type SluiceError } from "../errors.ts";
import type { SinkWriter } from "../types.ts";
import type { StageMeter } from "./meter.ts";
import { toSluiceError } from "./stages.ts";

export interface SinkDriver {
  readonly writer: SinkWriter<unknown>;
  readonly sinkName: string;
  readonly meter: StageMeter;
  readonly clock: Clock;
  /** Commits the sink at a barrier and records the checkpoint. */
  readonly commit: (barrier: Barrier) => Promise<void>;
}

/** Runs the stream into the sink; fails with the first error that stops the run. */
export function drainInto(
  stream: Stream.Stream<Chunk<unknown>, SluiceError>,
  d: SinkDriver,
): Effect.Effect<void, SluiceError> {
  const { writer: w, meter, clock, sinkName } = d;
  const failed = (e: unknown) =>
    new SinkError(`sink ${sinkName} failed to write: ${describeError(e)}`, { cause: e });
  const writeChunk = (chunk: Chunk<unknown>): Effect.Effect<void, SluiceError> => {
    if (chunk.barrier) {
      const b = chunk.barrier;
      return Effect.tryPromise({ try: () => d.commit(b), catch: (e) => toSluiceError(e, "sink") });
    }
    const n = chunk.records.length;
    const ts = clock.monotonic();
    const dead0 = meter.totals.deadLettered;
    meter.in(n, chunk.bytes);
    let r: void | Promise<void>;
    try {
      r = w.write(chunk);
    } catch (e) {
      return Effect.fail(failed(e));
    }
    if (r instanceof Promise) {
      return Effect.tryPromise({
        try: async () => {
          await r;
          meter.out(n - (meter.totals.deadLettered - dead0));
          meter.chunk(clock.monotonic() - ts);
        },
        catch: failed,
      });
    }
    meter.out(n - (meter.totals.deadLettered - dead0));
    meter.chunk(clock.monotonic() - ts);
    return Effect.void;
  };
  // Writes the chunks of one pull; stays synchronous until a write or commit is async.
  const writeFrom = (arr: ReadonlyArray<Chunk<unknown>>, from: number): Effect.Effect<void, SluiceError> => {
    for (let i = from; i < arr.length; i++) {
      const e = writeChunk(arr[i]);
      if (e !== Effect.void) return i + 1 < arr.length ? Effect.flatMap(e, () => writeFrom(arr, i + 1)) : e;
    }
    return Effect.void;
  };
  return Stream.runForEachArray(stream, (arr) => writeFrom(arr, 0)) as Effect.Effect<void, SluiceError>;
}
