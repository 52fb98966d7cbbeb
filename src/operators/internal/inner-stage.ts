/**
 * @module The one primitive behind every operator that wraps a stage (cache,
 * retry, timeout, circuit breaker, bulkhead, rate limit, fallback): run the
 * wrapped stage on any subset of a chunk's records and get one outcome per
 * record back, in order — a value, or the error the stage dead-lettered the
 * record with. Wrappers then decide what a failure means (retry it, fall
 * back, or dead-letter it with the wrapper's attempts and the record's source
 * position).
 *
 * How failures are told apart: the wrapped stage gets a context whose
 * `deadLetter` is captured, never written, and whose `onError` is always
 * "dead-letter"; each call hands it a sub-chunk with a private sequence
 * number, and the `position` (`chunk`, `index`) that `recordFailed` puts on a
 * dead letter says which call and which record failed. The wrapped stage must
 * have cardinality `one`, so the remaining outputs line up with the remaining
 * inputs.
 *
 * A `chunk` stage's `process` is called directly (sync stays sync); a
 * `stream` stage is run over a one-chunk stream per call, so it keeps its
 * concurrency within a call but not across chunks.
 */
import * as Effect from "effect/Effect";
import * as Stream from "effect/Stream";
import type { Chunk } from "../../pipeline/chunk.ts";
import { ConfigError, StageError } from "../../pipeline/errors.ts";
import type { DeadLetterInput, Operator, Stage, StageContext, StageHooks } from "../../pipeline/types.ts";
import { recordFailed } from "./operator.ts";

/** What happened to one record in a call. */
export type Outcome<B> =
  | { readonly ok: true; readonly value: B }
  | { readonly ok: false; readonly error: unknown; readonly attempts: number };

/** A call in progress; `abandon()` stops attributing its late dead letters (after a timeout). */
export interface Call<B> {
  readonly result: Outcome<B>[] | Promise<Outcome<B>[]>;
  abandon(): void;
}

export interface Inner<A, B> {
  /** The wrapped operator's name (`map`). */
  readonly name: string;
  /** The wrapped stage, for its hooks. */
  readonly stage: Stage<A, B>;
  /** Runs the wrapped stage on `records` (taken from `chunk`); outcomes line up with `records`. */
  call(records: ReadonlyArray<A>, chunk: Chunk<A>): Outcome<B>[] | Promise<Outcome<B>[]>;
  /** Like `call`, but the caller may abandon it. */
  start(records: ReadonlyArray<A>, chunk: Chunk<A>): Call<B>;
}

interface Capture {
  readonly records: ReadonlyArray<unknown>;
  readonly failed: Map<number, { error: unknown; attempts: number }>;
  unplaced: number;
}

/** Private sequence numbers of sub-chunks: far below any source's (and the engine's -1). */
const SEQ_BASE = -1_000_000_000;

/** Creates the wrapped stage for one run and returns the means to call it. */
export function innerStage<A, B>(wrapper: string, op: Operator<A, B>, ctx: StageContext): Inner<A, B> {
  if (op.cardinality !== "one") {
    throw new ConfigError(
      `${wrapper}(): the wrapped stage ${op.name} has cardinality "${op.cardinality}"; only one-to-one stages (map, mapAsync, parallelMap, …) can be wrapped`,
      { hint: `Wrap the one-to-one stage only and put ${op.name} before or after ${wrapper}().` },
    );
  }
  const calls = new Map<number, Capture>();
  let seq = SEQ_BASE;
  let current: Capture | undefined;

  const deadLetter = (item: DeadLetterInput): void => {
    const c = item.position?.chunk;
    const cap = c !== undefined && c <= SEQ_BASE ? calls.get(c) : current;
    if (c !== undefined && c <= SEQ_BASE && !cap) return; // an abandoned (timed-out) call: already failed
    if (!cap) {
      ctx.deadLetter(item); // not from a call (e.g. the stage's end())
      return;
    }
    const attempts = item.attempts ?? 1;
    let i = item.position?.index;
    if (i === undefined || i < 0 || i >= cap.records.length || cap.failed.has(i)) {
      i = cap.records.findIndex((r, k) => r === item.record && !cap.failed.has(k));
    }
    if (i >= 0) cap.failed.set(i, { error: item.error ?? new Error(item.reason), attempts });
    else cap.unplaced++;
  };

  // Timing: the wrapper is a chunk stage the engine times, so the wrapped
  // stage's latency and busy reports would count the same wall time twice.
  // Its CPU reports count, except those made inside a call's synchronous part
  // (the engine's clock already covers that).
  let inSyncPart = false;
  const innerCtx: StageContext = {
    ...ctx,
    onError: "dead-letter",
    deadLetter,
    reportBusy: () => {},
    reportChunk: () => {},
    reportCpu: (ms) => {
      if (!inSyncPart) ctx.reportCpu(ms);
    },
  };
  const stage = op.make(innerCtx);

  const finish = (cap: Capture, out: ReadonlyArray<B>): Outcome<B>[] => {
    const n = cap.records.length;
    if (cap.unplaced > 0 || out.length !== n - cap.failed.size) {
      throw new StageError(
        `${ctx.stage}: the wrapped stage ${op.name} returned ${out.length} records for ${n} inputs with ${cap.failed.size + cap.unplaced} dead letters, so outputs cannot be matched to inputs`,
        {
          hint: "A wrapped stage must be one-to-one and report failures with recordFailed (position.index).",
        },
      );
    }
    const res: Outcome<B>[] = new Array(n);
    for (let i = 0, o = 0; i < n; i++) {
      const f = cap.failed.get(i);
      res[i] = f ? { ok: false, error: f.error, attempts: f.attempts } : { ok: true, value: out[o++] };
    }
    return res;
  };

  const start = (records: ReadonlyArray<A>, chunk: Chunk<A>): Call<B> => {
    const id = --seq;
    const cap: Capture = { records, failed: new Map(), unplaced: 0 };
    calls.set(id, cap);
    const sub: Chunk<A> = { ...chunk, records, seq: id, barrier: undefined };
    const done = () => {
      calls.delete(id);
      if (current === cap) current = undefined;
    };
    current = cap;
    let r: ReadonlyArray<B> | Promise<ReadonlyArray<B>>;
    inSyncPart = true;
    try {
      r = stage.type === "chunk" ? stage.process(records, sub) : runStream(stage, sub);
    } catch (e) {
      done();
      throw e;
    } finally {
      inSyncPart = false;
    }
    const result =
      r instanceof Promise
        ? r.then(
            (out) => {
              try {
                return finish(cap, out);
              } finally {
                done();
              }
            },
            (e) => {
              done();
              throw e;
            },
          )
        : (() => {
            try {
              return finish(cap, r);
            } finally {
              done();
            }
          })();
    return { result, abandon: done };
  };

  return {
    name: op.name,
    stage,
    start,
    call: (records, chunk) => start(records, chunk).result,
  };
}

async function runStream<A, B>(stage: Stage<A, B>, sub: Chunk<A>): Promise<ReadonlyArray<B>> {
  if (stage.type !== "stream") return [];
  const chunks = await Effect.runPromise(Stream.runCollect(stage.apply(Stream.make(sub))));
  const out: B[] = [];
  for (const c of chunks) if (!c.barrier) for (const r of c.records) out.push(r);
  return out;
}

/** The wrapped stage's lifecycle hooks, to put on the wrapper's stage (which may extend them). */
export function innerHooks<B>(stage: StageHooks<B>): StageHooks<B> {
  const h: { -readonly [K in keyof StageHooks<B>]: StageHooks<B>[K] } = {};
  if (stage.snapshot) h.snapshot = () => stage.snapshot?.();
  if (stage.restore) h.restore = (s) => stage.restore?.(s);
  if (stage.end) h.end = () => stage.end?.() ?? [];
  if (stage.close) h.close = () => stage.close?.();
  if (stage.start) h.start = () => stage.start?.() ?? Promise.resolve();
  return h;
}

/**
 * Turns per-record outcomes (one per record of `records`, in order) into the
 * wrapper's output: values in order, failures dead-lettered at the wrapper's
 * stage with their attempts and source position.
 */
export function settleOutcomes<A, B>(
  ctx: StageContext,
  records: ReadonlyArray<A>,
  chunk: Chunk<A>,
  outcomes: ReadonlyArray<Outcome<B>>,
): B[] {
  const out: B[] = [];
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i];
    if (o.ok) out.push(o.value);
    else recordFailed(ctx, chunk, i, records[i], o.error, o.attempts);
  }
  return out;
}
