/**
 * @module An RxJS `Observable` as a source (DESIGN §2). Observables push and
 * cannot be slowed down, so the source keeps a bounded buffer between the
 * subscription and the pipeline and applies an explicit overflow policy when
 * it is full (`internal/observable-buffer.ts` says exactly what each policy
 * does). Offsets are emission indices (`{ index }`): a resumed run skips the
 * records a checkpoint covered when the Observable is `replayable`; a hot
 * Observable simply continues with what it emits now.
 */
import * as Channel from "effect/Channel";
import * as Effect from "effect/Effect";
import * as Scope from "effect/Scope";
import * as Stream from "effect/Stream";
import type { Observable } from "rxjs";
import { z } from "zod";
import type { Chunk } from "../pipeline/chunk.ts";
import { ConfigError, type SourceError } from "../pipeline/errors.ts";
import { parseComponentOptions } from "../pipeline/internal/options.ts";
import { type Source, type SourceContext, SourceTypeId } from "../pipeline/types.ts";
import { ObservableBuffer } from "./internal/observable-buffer.ts";

export const FromObservableOptions = z
  .object({
    /** Most records held between the Observable and the pipeline (default 16384). */
    buffer: z.number().int().positive().default(16_384),
    /** What happens when the buffer is full (default `"fail"`). `"block"` needs `replayable: true`. */
    overflow: z.enum(["block", "drop-oldest", "drop-newest", "fail"]).default("fail"),
    /** Most records per chunk (default 1000); a chunk takes what is buffered, up to this. */
    chunkSize: z.number().int().positive().default(1000),
    /**
     * The Observable emits the same records in the same order on every
     * subscription (cold and deterministic: `from(array)`, `range`, `defer` over
     * a re-readable input). Enables `block` and exact resume. Default false.
     */
    replayable: z.boolean().default(false),
    /** Name shown in progress and events (default `fromObservable`). */
    name: z.string().min(1).optional(),
  })
  .strict();
export type FromObservableOptions = z.input<typeof FromObservableOptions>;

/**
 * Reads the records an Observable emits.
 *
 * @example
 * ```ts
 * import { fromEvent, map } from "rxjs";
 *
 * const clicks = fromEvent<MouseEvent>(document, "click").pipe(map((e) => ({ x: e.x, y: e.y })));
 * pipeline("clicks")
 *   .from(fromObservable(clicks, { buffer: 10_000, overflow: "drop-oldest" }))
 *   .to(ndjson("out/clicks.ndjson"));
 * ```
 */
export function fromObservable<A>(observable: Observable<A>, options: FromObservableOptions = {}): Source<A> {
  if (typeof (observable as { subscribe?: unknown } | null)?.subscribe !== "function") {
    throw new ConfigError("fromObservable(): expected an RxJS Observable (something with subscribe())");
  }
  const o = parseComponentOptions("fromObservable()", FromObservableOptions, options);
  if (o.overflow === "block" && !o.replayable) {
    throw new ConfigError('fromObservable(): overflow "block" needs replayable: true', {
      hint:
        "An Observable cannot be paused; block pauses it by unsubscribing and re-subscribes skipping what it " +
        "already received, which is only correct when every subscription replays the same records. For a hot " +
        'Observable (Subject, fromEvent, a socket) choose "drop-oldest", "drop-newest" or "fail".',
    });
  }
  const name = o.name ?? "fromObservable";
  const settings = {
    capacity: o.buffer,
    overflow: o.overflow,
    chunkSize: o.chunkSize,
    replayable: o.replayable,
    name,
  };
  return {
    [SourceTypeId]: true,
    name,
    open(ctx: SourceContext): Stream.Stream<Chunk<A>, SourceError> {
      return Stream.fromChannel(
        Channel.fromTransform((_upstream, scope) =>
          Effect.gen(function* () {
            const buffer = new ObservableBuffer(observable, settings, ctx);
            yield* Scope.addFinalizer(
              scope,
              Effect.sync(() => buffer.close()),
            );
            buffer.start();
            return buffer.pull;
          }),
        ),
      );
    },
  };
}
