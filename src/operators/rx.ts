/**
 * @module `rx`: any RxJS operator as a stage (DESIGN §2: RxJS meets the engine
 * at the edges). Records go one by one into a Subject that feeds the
 * operator; what it emits is gathered into chunks.
 *
 * The barrier rule. An RxJS operator's state cannot be snapshotted, so a
 * checkpoint can only be exact if the operator holds nothing when the barrier
 * passes. Two modes say what happens to what it holds:
 *
 * - `onBarrier: "pass"` (default): one subscription for the whole run, so
 *   state (`scan` totals, `distinct` keys, a `bufferCount` buffer) carries on
 *   across checkpoints. A barrier leaves after everything the operator has
 *   emitted so far, which, for synchronous operators, is every output of the
 *   records before it. Records it still holds (a partial `bufferCount` buffer)
 *   and outputs it emits later (`delay`, `mergeMap` over promises) follow the
 *   barrier: after a crash, a resume from that checkpoint does not see them
 *   again. At the final barrier the operator is completed and its last
 *   outputs flushed first, so an uninterrupted run loses nothing.
 * - `onBarrier: "complete"`: at every barrier the Subject completes, the
 *   barrier waits until the operator completes (held records flushed, async
 *   work finished), and a fresh subscription starts after it. Each checkpoint
 *   covers exactly the outputs of the records before it; operator state
 *   restarts at each checkpoint.
 *
 * An error from the operator ends its Observable, so it fails the run
 * (catch per record inside the operator with `catchError` if needed). For
 * async calls with checkpoint-exact delivery use `mapAsync` instead.
 */
// RxJS's root entry loads all of RxJS (~300 modules, 0.1–0.3 s at start-up
// on Node, measured); the classes come from their own modules (a published
// export path, "rxjs/internal/*"), the same instances the root re-exports.
import type { OperatorFunction, Subscription } from "rxjs";
import { Subject } from "rxjs/internal/Subject";
import type { Chunk } from "../pipeline/chunk.ts";
import { ConfigError, describeError, StageError } from "../pipeline/errors.ts";
import { rejectUnknownOptions } from "../pipeline/internal/options.ts";
import type { Operator, StageContext } from "../pipeline/types.ts";
import { makeOperator } from "./internal/operator.ts";
import { type Outbox, type PushStage, runPushStage } from "./internal/push-stage.ts";

export interface RxOptions {
  /** What a barrier does to the operator: `"pass"` (default) or `"complete"`. See the module notes. */
  readonly onBarrier?: "pass" | "complete";
}

/**
 * Runs records through an RxJS operator (`OperatorFunction<A, B>`).
 *
 * @example
 * ```ts
 * import { bufferCount, map as rxMap } from "rxjs";
 *
 * pipeline("pairs")
 *   .from(iterable([1, 2, 3, 4]))
 *   .via(rx(bufferCount<number>(2)), rx(rxMap(([a, b]: number[]) => a + b)))
 *   .to(collect()); // [3, 7]
 * ```
 */
export function rx<A, B>(operator: OperatorFunction<A, B>, options: RxOptions = {}): Operator<A, B> {
  if (typeof operator !== "function") {
    throw new ConfigError(
      "rx(): expected an RxJS operator such as map(...), bufferCount(3) or mergeMap(...)",
    );
  }
  rejectUnknownOptions("rx()", options, ["onBarrier"]);
  const complete = (options.onBarrier ?? "pass") === "complete";
  return makeOperator<A, B>("rx", "many", (ctx) => ({
    type: "stream",
    apply: (input) => runPushStage(input, ctx.stage, () => new RxStage(ctx, operator, complete)),
  }));
}

class RxStage<A, B> implements PushStage<A, B> {
  #subject: Subject<A> | undefined;
  #subscription: Subscription | undefined;
  #completed: Promise<void> = Promise.resolve();
  #acc: B[] = [];
  #meta: Chunk<A> | undefined;
  #feeding = false;
  #flushQueued = false;
  #out: Outbox<B> | undefined;
  #room: (() => void) | undefined;

  constructor(
    readonly ctx: StageContext,
    readonly operator: OperatorFunction<A, B>,
    readonly completeAtBarrier: boolean,
  ) {}

  push(chunk: Chunk<A>, out: Outbox<B>): void | Promise<void> {
    if (!this.#out) {
      this.#out = out;
      out.onTake = () => {
        const room = this.#room;
        this.#room = undefined;
        room?.();
      };
    }
    if (!this.#subject) this.#subscribe();
    const barrier = chunk.barrier;
    if (barrier) {
      if (!barrier.final && !this.completeAtBarrier) {
        this.#flush();
        out.push(chunk as unknown as Chunk<B>);
        return;
      }
      this.#subject?.complete();
      return this.#completed.then(() => {
        this.#flush();
        this.#subject = undefined;
        out.push(chunk as unknown as Chunk<B>);
      });
    }
    this.#meta = chunk;
    this.#feeding = true;
    const subject = this.#subject as Subject<A>;
    const records = chunk.records;
    try {
      for (let i = 0; i < records.length && !out.closed; i++) subject.next(records[i]);
    } finally {
      this.#feeding = false;
    }
    this.#flush();
    if (out.size < 2) return;
    return new Promise<void>((resolve) => {
      this.#room = resolve;
    });
  }

  end(out: Outbox<B>): void | Promise<void> {
    // The final barrier normally completed the operator already.
    if (!this.#subject) return out.end();
    this.#subject.complete();
    return this.#completed.then(() => {
      this.#flush();
      out.end();
    });
  }

  stop(): void {
    this.#subscription?.unsubscribe();
    this.#subject = undefined;
  }

  #subscribe(): void {
    const subject = new Subject<A>();
    this.#subject = subject;
    this.#completed = new Promise<void>((resolve) => {
      this.#subscription = subject.pipe(this.operator).subscribe({
        next: (value) => {
          this.#acc.push(value);
          // Emitted outside a push (a timer, a promise): hand it on soon, in one chunk.
          if (!this.#feeding && !this.#flushQueued) {
            this.#flushQueued = true;
            queueMicrotask(() => {
              this.#flushQueued = false;
              this.#flush();
            });
          }
        },
        error: (e: unknown) => {
          this.#out?.fail(
            new StageError(`stage ${this.ctx.stage}: the RxJS operator failed: ${describeError(e)}`, {
              cause: e,
              hint: "An RxJS error ends the operator's Observable; handle per-record errors inside it with catchError.",
            }),
            this.ctx.stage,
          );
          resolve();
        },
        complete: () => resolve(),
      });
    });
  }

  #flush(): void {
    if (this.#acc.length === 0 || !this.#out) return;
    const records = this.#acc;
    this.#acc = [];
    const m = this.#meta;
    this.#out.push({
      records,
      seq: m?.seq ?? 0,
      start: m?.start,
      end: m?.end,
      bytes: 0,
      createdAt: m?.createdAt ?? this.ctx.clock.monotonic(),
    });
  }
}
