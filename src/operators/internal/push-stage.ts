/**
 * @module The one primitive behind the `stream` stages whose work completes
 * out of step with the pulls (mapAsync's concurrent calls, an RxJS operator's
 * emissions): a pump fiber pulls the upstream and pushes each chunk into a
 * plain-JavaScript `PushStage`, which pushes results into an `Outbox`; the
 * stage's output stream takes from the outbox. Backpressure is the promise a
 * stage returns from `push` (the pump waits for it); barriers are ordinary
 * chunks here, and each stage decides when to put them in the outbox.
 */
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
import * as Pull from "effect/Pull";
import * as Scope from "effect/Scope";
import * as Stream from "effect/Stream";
import type { Chunk } from "../../pipeline/chunk.ts";
import type { SluiceError } from "../../pipeline/errors.ts";
import { toSluiceError } from "../../pipeline/internal/stages.ts";

/** A stage driven by pushes. Barrier chunks arrive through `push` in order. */
export interface PushStage<A, B> {
  /** Takes one chunk; return a promise to hold the pump until more may come. */
  push(chunk: Chunk<A>, out: Outbox<B>): void | Promise<void>;
  /** Input ended: call `out.end()` once everything is in the outbox. */
  end(out: Outbox<B>): void | Promise<void>;
  /** The stream stopped (finished, failed or interrupted): release resources. */
  stop?(): void;
}

type NonEmpty<B> = readonly [Chunk<B>, ...Chunk<B>[]];

/** The queue between a push stage and the pulls of the stage after it. */
export class Outbox<B> {
  #queue: Chunk<B>[] = [];
  #records = 0;
  #ended = false;
  #failure: Cause.Cause<SluiceError> | undefined;
  #wake: (() => void) | undefined;
  /** Called after the downstream took chunks (a stage may admit more input). */
  onTake: ((chunks: number, records: number) => void) | undefined;

  /** Chunks waiting for the downstream. */
  get size(): number {
    return this.#queue.length;
  }

  /** Records waiting for the downstream. */
  get records(): number {
    return this.#records;
  }

  get closed(): boolean {
    return this.#ended || this.#failure !== undefined;
  }

  push(chunk: Chunk<B>): void {
    if (this.closed) return;
    this.#queue.push(chunk);
    this.#records += chunk.records.length;
    this.#signal();
  }

  end(): void {
    this.#ended = true;
    this.#signal();
  }

  /** Fails the stage's output; later pushes are ignored. */
  fail(error: unknown, stage: string): void {
    this.failCause(Cause.fail(toSluiceError(error, stage)));
  }

  failCause(cause: Cause.Cause<SluiceError>): void {
    if (this.#failure) return;
    this.#failure = cause;
    this.#signal();
  }

  /** The pull of the output stream: everything queued, or wait for something. */
  readonly take: Effect.Effect<NonEmpty<B>, SluiceError | Cause.Done> = Effect.suspend(() => {
    if (this.#queue.length > 0) {
      const out = this.#queue as unknown as NonEmpty<B>;
      const records = this.#records;
      this.#queue = [];
      this.#records = 0;
      this.onTake?.(out.length, records);
      return Effect.succeed(out);
    }
    if (this.#failure) return Effect.failCause(this.#failure);
    if (this.#ended) return Cause.done();
    return Effect.flatMap(
      Effect.callback<void>((resume) => {
        this.#wake = () => resume(Effect.void);
      }),
      () => this.take,
    );
  });

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/**
 * Runs `stage` over `input`: pumps the upstream into it on a fiber scoped to
 * the output stream (interrupted when the output stops) and emits what it puts
 * in its outbox.
 */
export function runPushStage<A, B>(
  input: Stream.Stream<Chunk<A>, SluiceError>,
  stageName: string,
  make: () => PushStage<A, B>,
): Stream.Stream<Chunk<B>, SluiceError> {
  return Stream.transformPull(input, (pull, scope) =>
    Effect.gen(function* () {
      const stage = make();
      const out = new Outbox<B>();
      // Pushes arr[from..] into the stage, then continues with `next` unless
      // the outbox closed (a failure: stop pulling).
      const feed = (
        arr: ReadonlyArray<Chunk<A>>,
        from: number,
        next: Effect.Effect<void, SluiceError | Cause.Done>,
      ): Effect.Effect<void, SluiceError | Cause.Done> => {
        for (let i = from; i < arr.length; i++) {
          if (out.closed) return Effect.void;
          let r: void | Promise<void>;
          try {
            r = stage.push(arr[i], out);
          } catch (e) {
            out.fail(e, stageName);
            return Effect.void;
          }
          if (r instanceof Promise) {
            const wait = r.then(
              () => true,
              (e) => {
                out.fail(e, stageName);
                return false;
              },
            );
            return Effect.flatMap(
              Effect.promise(() => wait),
              (ok) => (ok ? feed(arr, i + 1, next) : Effect.void),
            );
          }
        }
        return out.closed ? Effect.void : next;
      };
      const loop: Effect.Effect<void, SluiceError | Cause.Done> = Effect.suspend(() =>
        Effect.flatMap(pull, (arr) => feed(arr, 0, loop)),
      );
      const finish = Effect.promise(async () => {
        try {
          await stage.end(out);
        } catch (e) {
          out.fail(e, stageName);
        }
      });
      const pump = Effect.catchCause(loop, (cause) => {
        if (Pull.isDoneCause(cause)) return finish;
        if (!Cause.hasInterruptsOnly(cause)) out.failCause(cause as Cause.Cause<SluiceError>);
        return Effect.void;
      });
      yield* Scope.addFinalizer(
        scope,
        Effect.sync(() => stage.stop?.()),
      );
      yield* Effect.forkIn(pump, scope);
      return out.take;
    }),
  ) as Stream.Stream<Chunk<B>, SluiceError>;
}
