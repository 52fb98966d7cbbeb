/**
 * @module `mapAsync`: in-thread concurrency for I/O-bound functions. One
 * limiter is shared by the records of every chunk in flight, so when a chunk's
 * last calls are running the next chunk's first calls already are: no stall
 * at chunk ends. Calls are started from completions (no per-record waiting
 * on a semaphore), and a barrier is a fence: it leaves after every chunk
 * before it and before any chunk after it, while calls for the chunks after
 * it keep running (DESIGN §3: in-flight work completes before it passes).
 *
 * Timing (meanings in `pipeline/internal/meter.ts`): a chunk's latency runs
 * from its push to its release; busy time is the wall time with any call in
 * flight; CPU time is the synchronous part of the calls, read once per
 * launch batch (two clock reads, not two per record when a batch starts
 * many). Work an async function does after its first `await` runs in a
 * continuation the stage cannot see, and counts as waiting.
 */
import type { Chunk } from "../pipeline/chunk.ts";
import { ConfigError } from "../pipeline/errors.ts";
import { rejectUnknownOptions } from "../pipeline/internal/options.ts";
import type { Operator, StageContext } from "../pipeline/types.ts";
import { isAsync, type MaybeAsync, makeOperator, recordFailed, settle } from "./internal/operator.ts";
import { type Outbox, type PushStage, runPushStage } from "./internal/push-stage.ts";

export interface MapAsyncOptions {
  /** Calls in flight at once, across chunks (default 16). */
  readonly concurrency?: number;
  /** Keep chunk order (default true). `false` emits each chunk when all its records are done. */
  readonly ordered?: boolean;
}

/**
 * Transforms each record with an async (or Effect-returning) function, with
 * up to `concurrency` calls in flight. A call that fails sends its record to
 * the dead letter (or fails the run with `onError: "fail"`).
 *
 * @example
 * ```ts
 * pipeline("enrich")
 *   .from(iterable(userIds))
 *   .via(mapAsync(async (id: number) => (await fetch(`https://api.example.com/users/${id}`)).json(), { concurrency: 64 }))
 *   .to(collect());
 * ```
 */
export function mapAsync<A, B>(
  fn: (record: A, index: number) => MaybeAsync<B>,
  options: MapAsyncOptions = {},
): Operator<A, B> {
  rejectUnknownOptions("mapAsync()", options, ["concurrency", "ordered"]);
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigError(`mapAsync(): concurrency must be a positive integer, got ${String(concurrency)}`);
  }
  const ordered = options.ordered ?? true;
  return makeOperator<A, B>("mapAsync", "one", (ctx) => ({
    type: "stream",
    apply: (input) => runPushStage(input, ctx.stage, () => new AsyncMapper(ctx, fn, concurrency, ordered)),
  }));
}

/** One input chunk (or barrier) on its way through the stage. */
interface Slot<A, B> {
  readonly chunk: Chunk<A>;
  /** When the stage took the chunk (monotonic ms; 0 for a barrier). */
  readonly at: number;
  readonly results: B[];
  /** Set only when a record failed: 1 marks the failed ones. */
  failed: Uint8Array | undefined;
  /** Next record to start. */
  next: number;
  /** Records not settled yet. */
  pending: number;
}

class AsyncMapper<A, B> implements PushStage<A, B> {
  readonly #slots: Slot<A, B>[] = [];
  /** Chunks and records accepted and not yet taken by the downstream. */
  #heldChunks = 0;
  #heldRecords = 0;
  /** Records accepted but not started. */
  #unstarted = 0;
  #active = 0;
  #busySince = 0;
  #launching = false;
  /** A slot finished while launching: emit after the launch loop (it holds an index into #slots). */
  #emitAfterLaunch = false;
  #ended = false;
  #stopped = false;
  #out: Outbox<B> | undefined;
  #admit: (() => void) | undefined;

  constructor(
    readonly ctx: StageContext,
    readonly fn: (record: A, index: number) => MaybeAsync<B>,
    readonly concurrency: number,
    readonly ordered: boolean,
  ) {}

  push(chunk: Chunk<A>, out: Outbox<B>): void | Promise<void> {
    if (!this.#out) {
      this.#out = out;
      out.onTake = (chunks, records) => {
        this.#heldChunks -= chunks;
        this.#heldRecords -= records;
        this.#checkAdmit();
      };
    }
    const n = chunk.barrier ? 0 : chunk.records.length;
    const at = chunk.barrier ? 0 : this.ctx.clock.monotonic();
    this.#slots.push({ chunk, at, results: new Array(n), failed: undefined, next: 0, pending: n });
    this.#heldChunks++;
    this.#heldRecords += n;
    this.#unstarted += n;
    this.#launch();
    this.#emit();
    if (this.#mayAdmit()) return;
    return new Promise<void>((resolve) => {
      this.#admit = resolve;
    });
  }

  end(out: Outbox<B>): void {
    this.#ended = true;
    this.#out ??= out;
    this.#emit();
  }

  stop(): void {
    this.#stopped = true;
    this.#slots.length = 0;
  }

  /**
   * Whether the pump may push another chunk: only while the limiter would
   * otherwise run dry (fewer unstarted records than permits), and within a
   * memory bound (two chunks, or 4 x concurrency records, whichever is more).
   */
  #mayAdmit(): boolean {
    if (this.#unstarted >= this.concurrency) return false;
    if (this.#heldChunks < 2) return true;
    return this.#heldRecords < 4 * this.concurrency && this.#heldChunks < 4 * this.concurrency;
  }

  #checkAdmit(): void {
    if (this.#admit && this.#mayAdmit()) {
      const admit = this.#admit;
      this.#admit = undefined;
      admit();
    }
  }

  /** Starts calls while permits are free, oldest chunk first. */
  #launch(): void {
    if (this.#launching) return;
    this.#launching = true;
    const slots = this.#slots;
    let k = 0;
    let t0 = -1;
    while (this.#active < this.concurrency && this.#unstarted > 0 && !this.#stopped) {
      while (k < slots.length && slots[k].next >= slots[k].chunk.records.length) k++;
      if (k >= slots.length) break;
      const slot = slots[k];
      const i = slot.next++;
      this.#unstarted--;
      if (t0 < 0) t0 = this.ctx.clock.monotonic();
      this.#call(slot, i);
    }
    if (t0 >= 0) this.ctx.reportCpu(this.ctx.clock.monotonic() - t0);
    this.#launching = false;
    if (this.#emitAfterLaunch) {
      this.#emitAfterLaunch = false;
      this.#emit();
    }
  }

  #call(slot: Slot<A, B>, i: number): void {
    const record = slot.chunk.records[i];
    let r: MaybeAsync<B>;
    try {
      r = this.fn(record, i);
    } catch (e) {
      this.#failed(slot, i, e);
      return;
    }
    if (!isAsync(r)) {
      slot.results[i] = r as B;
      this.#settled(slot);
      return;
    }
    if (this.#active++ === 0) this.#busySince = this.ctx.clock.monotonic();
    settle(r).then(
      (value) => {
        slot.results[i] = value;
        this.#done(slot);
      },
      (e) => {
        this.#failed(slot, i, e, true);
      },
    );
  }

  #failed(slot: Slot<A, B>, i: number, e: unknown, async = false): void {
    if (this.#stopped) return;
    slot.failed ??= new Uint8Array(slot.chunk.records.length);
    slot.failed[i] = 1;
    try {
      recordFailed(this.ctx, slot.chunk, i, slot.chunk.records[i], e);
    } catch (fatal) {
      this.#out?.fail(fatal, this.ctx.stage);
      this.stop();
      return;
    }
    if (async) this.#done(slot);
    else this.#settled(slot);
  }

  /** An async call finished: free its permit. */
  #done(slot: Slot<A, B>): void {
    if (this.#stopped) return;
    if (--this.#active === 0) this.ctx.reportBusy(this.ctx.clock.monotonic() - this.#busySince);
    this.#settled(slot);
    this.#launch();
    this.#checkAdmit();
  }

  #settled(slot: Slot<A, B>): void {
    if (--slot.pending !== 0) return;
    if (this.#launching) this.#emitAfterLaunch = true;
    else this.#emit();
  }

  /** Moves finished slots to the outbox: in order, or any before the first pending barrier. */
  #emit(): void {
    const out = this.#out;
    if (!out || this.#stopped) return;
    const slots = this.#slots;
    let k = 0;
    while (k < slots.length) {
      const slot = slots[k];
      const complete = slot.pending === 0 && slot.next >= slot.chunk.records.length;
      if (slot.chunk.barrier) {
        if (k > 0) break; // a fence: everything before it must leave first
        slots.shift();
        out.push(slot.chunk as unknown as Chunk<B>);
        continue;
      }
      if (!complete) {
        if (this.ordered) break;
        k++;
        continue;
      }
      slots.splice(k, 1);
      this.#release(slot, out);
    }
    if (this.#ended && slots.length === 0) out.end();
  }

  #release(slot: Slot<A, B>, out: Outbox<B>): void {
    const { chunk, results, failed } = slot;
    this.ctx.reportChunk(this.ctx.clock.monotonic() - slot.at);
    let records = results;
    if (failed) {
      records = [];
      for (let i = 0; i < results.length; i++) if (failed[i] === 0) records.push(results[i]);
      // Dropped records will never be taken: stop holding them.
      this.#heldRecords -= results.length - records.length;
    }
    if (records.length === 0) {
      this.#heldChunks--;
      this.#checkAdmit();
      return;
    }
    out.push({
      records,
      seq: chunk.seq,
      start: chunk.start,
      end: chunk.end,
      bytes: chunk.bytes,
      createdAt: chunk.createdAt,
    });
  }
}
