/**
 * @module The bounded buffer between an Observable (push, no backpressure)
 * and the pulls of a pipeline. It owns the subscription and applies the
 * overflow policy when the buffer is full:
 *
 * - `drop-newest` / `drop-oldest`: the dropped record goes to the dead letter
 *   (so counts still reconcile), and a `log` warning marks the start of each
 *   overflow episode;
 * - `fail`: the source fails with a `SourceError` after the records already
 *   buffered;
 * - `block`: an Observable cannot be told to wait, so the buffer pauses it
 *   the only way RxJS allows: it unsubscribes when the buffer is full (for a
 *   synchronous producer such as `from(array)` or `range`, RxJS stops the
 *   loop at once), and subscribes again once the buffer has drained to half,
 *   skipping the records it already received. That is only correct for a
 *   replayable (cold, deterministic) Observable, so `block` requires
 *   `replayable: true`; each pause re-emits the skipped prefix, so a
 *   synchronous producer of n records costs O(n² / buffer) emissions.
 */
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
// RxJS's root entry loads all of RxJS (~300 modules, 0.1–0.3 s at start-up
// on Node, measured); the classes come from their own modules (a published
// export path, "rxjs/internal/*"), the same instances the root re-exports.
import type { Observable, Subscription } from "rxjs";
import { skip } from "rxjs/internal/operators/skip";
import { takeWhile } from "rxjs/internal/operators/takeWhile";
import type { Chunk } from "../../pipeline/chunk.ts";
import { describeError, SourceError } from "../../pipeline/errors.ts";
import type { SourceContext } from "../../pipeline/types.ts";

export type Overflow = "block" | "drop-oldest" | "drop-newest" | "fail";

export interface BufferSettings {
  readonly capacity: number;
  readonly overflow: Overflow;
  readonly chunkSize: number;
  readonly replayable: boolean;
  readonly name: string;
}

type NonEmpty<A> = readonly [Chunk<A>, ...Chunk<A>[]];

export class ObservableBuffer<A> {
  // Records and their emission indices, from `#head`.
  #items: A[] = [];
  #index: number[] = [];
  #head = 0;
  /** Emission index of the next record the Observable sends. */
  #emitted: number;
  #seq = 0;
  #subscription: Subscription | undefined;
  #paused = false;
  #cut = false;
  #completed = false;
  #closed = false;
  #failure: SourceError | undefined;
  #overflowing = false;
  #wake: (() => void) | undefined;
  readonly #onAbort = () => this.#finish();

  constructor(
    readonly source: Observable<A>,
    readonly settings: BufferSettings,
    readonly ctx: SourceContext,
  ) {
    const from = typeof ctx.resumeFrom?.index === "number" ? ctx.resumeFrom.index : 0;
    this.#emitted = from;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Subscribes (skipping what a resumed run already covered, when replayable). */
  start(): void {
    this.ctx.signal.addEventListener("abort", this.#onAbort, { once: true });
    this.#subscribe(this.settings.replayable ? this.#emitted : 0);
  }

  close(): void {
    this.#closed = true;
    this.ctx.signal.removeEventListener("abort", this.#onAbort);
    this.#subscription?.unsubscribe();
  }

  /** The source's pull: a chunk of what is buffered, or wait for records. */
  readonly pull: Effect.Effect<NonEmpty<A>, SourceError | Cause.Done> = Effect.suspend(() => {
    if (this.size > 0) return Effect.succeed([this.#take()] as const);
    if (this.#failure) return Effect.fail(this.#failure);
    if (this.#completed) return Cause.done();
    return Effect.flatMap(
      Effect.callback<void>((resume) => {
        this.#wake = () => resume(Effect.void);
      }),
      () => this.pull,
    );
  });

  #subscribe(skipped: number): void {
    const { capacity, overflow } = this.settings;
    this.#cut = false;
    let source = skipped > 0 ? this.source.pipe(skip(skipped)) : this.source;
    // Stops the producer (even a synchronous one) when closed, failed, or full under `block`.
    source = source.pipe(
      takeWhile(() => {
        if (this.#closed || this.#failure) return false;
        if (overflow === "block" && this.size >= capacity) {
          this.#cut = true;
          return false;
        }
        return true;
      }),
    );
    this.#subscription = source.subscribe({
      next: (value) => this.#next(value),
      error: (e: unknown) => {
        this.#failure ??= new SourceError(
          `${this.settings.name}: the Observable failed: ${describeError(e)}`,
          {
            cause: e,
          },
        );
        this.#signal();
      },
      complete: () => {
        if (this.#cut) this.#paused = true;
        else this.#completed = true;
        this.#signal();
      },
    });
  }

  #next(value: A): void {
    const index = this.#emitted++;
    const { capacity, overflow } = this.settings;
    if (this.size >= capacity) {
      if (overflow === "fail") {
        this.#failure = new SourceError(
          `${this.settings.name}: the buffer of ${capacity} records overflowed: the Observable emitted faster than the pipeline consumed`,
          {
            hint: 'Raise `buffer`, choose overflow "drop-oldest" or "drop-newest", or "block" for a replayable Observable.',
          },
        );
        this.#signal();
        return;
      }
      if (!this.#overflowing) {
        this.#overflowing = true;
        this.ctx.emit({
          kind: "log",
          level: "warn",
          stage: this.ctx.stage,
          message: `${this.settings.name}: buffer of ${capacity} records full; ${overflow} (dropped records go to the dead letter)`,
        });
      }
      if (overflow === "drop-newest") {
        this.#drop(value, index);
        return;
      }
      // drop-oldest
      const h = this.#head++;
      this.#drop(this.#items[h], this.#index[h]);
    }
    this.#items.push(value);
    this.#index.push(index);
    this.#signal();
  }

  #drop(record: A, index: number): void {
    this.ctx.deadLetter({
      reason: `${this.settings.name}: dropped by overflow policy ${this.settings.overflow} (buffer of ${this.settings.capacity} records full)`,
      record,
      position: { index },
    });
  }

  #take(): Chunk<A> {
    const n = Math.min(this.settings.chunkSize, this.size);
    const from = this.#head;
    const records = this.#items.slice(from, from + n);
    const first = this.#index[from];
    const last = this.#index[from + n - 1];
    this.#head += n;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#index = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#index = this.#index.slice(this.#head);
      this.#head = 0;
    }
    if (this.size < this.settings.capacity) this.#overflowing = false;
    if (this.#paused && this.size <= this.settings.capacity / 2 && !this.#closed) {
      this.#paused = false;
      this.#subscribe(this.#emitted);
    }
    return {
      records,
      seq: this.#seq++,
      start: { index: first },
      end: { index: last + 1 },
      bytes: 0,
      createdAt: this.ctx.clock.monotonic(),
    };
  }

  /** The run was stopped: end the stream after what is buffered. */
  #finish(): void {
    this.#completed = true;
    this.#subscription?.unsubscribe();
    this.#signal();
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
