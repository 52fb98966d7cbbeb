/**
 * @module How stages become one Effect stream. Consecutive `chunk` stages are
 * fused into one per-chunk loop over `transformPull` (no per-stage stream
 * machinery, and empty results are skipped without emitting); `stream` stages
 * wrap the stream. Barriers pass through every stage in order: stateful
 * stages snapshot as the barrier passes them, and at the final barrier each
 * stage's `end()` output flows through the stages after it before the
 * barrier does.
 *
 * Timing (the meanings are in `meter.ts`): a chunk stage's latency and busy
 * time are the wall time of its `process` call; its CPU time is the same
 * when the call is synchronous, and the part before the promise was returned
 * when it is not (async continuations report theirs via `ctx.reportCpu`).
 * Stream stages time themselves (`reportChunk`, `reportBusy`, `reportCpu`).
 */
import * as Effect from "effect/Effect";
import * as Stream from "effect/Stream";
import type { Clock } from "../../runtime/clock.ts";
import { type Barrier, type Chunk, withRecords } from "../chunk.ts";
import { describeError, isSluiceError, type SluiceError, StageError } from "../errors.ts";
import type { Operator, Stage, StageHooks } from "../types.ts";
import type { StageMeter } from "./meter.ts";

export interface LiveStage {
  readonly name: string;
  readonly op: Operator<unknown, unknown>;
  readonly impl: Stage<unknown, unknown>;
  readonly meter: StageMeter;
  /** Called as each barrier leaves the stage, after its snapshot (side outputs cut there). */
  readonly onBarrier?: (barrier: Barrier) => void;
  /** A stream stage's: called as each barrier enters it. */
  readonly onBarrierEnter?: (barrier: Barrier) => void;
}

type Out = Chunk<unknown>[];

/** A fused group of chunk stages (or the post-processing of one stream stage). */
interface GroupStage {
  readonly name: string;
  readonly meter: StageMeter;
  readonly cardinality: Operator<unknown, unknown>["cardinality"];
  readonly hooks: StageHooks<unknown>;
  readonly onBarrier?: (barrier: Barrier) => void;
  /** undefined: pass-through that only counts rows out (after a stream stage). */
  readonly process?: (
    records: ReadonlyArray<unknown>,
    chunk: Chunk<unknown>,
  ) => ReadonlyArray<unknown> | Promise<ReadonlyArray<unknown>>;
}

export function toSluiceError(e: unknown, stage: string): SluiceError {
  if (isSluiceError(e)) return e;
  return new StageError(`stage ${stage} failed: ${describeError(e)}`, { cause: e });
}

/** Builds the stream of all stages on top of the source stream. */
export function composeStages(
  source: Stream.Stream<Chunk<unknown>, SluiceError>,
  stages: ReadonlyArray<LiveStage>,
  clock: Clock,
): Stream.Stream<Chunk<unknown>, SluiceError> {
  let stream = source;
  let group: GroupStage[] = [];
  const flushGroup = () => {
    if (group.length) stream = fused(stream, group, clock);
    group = [];
  };
  for (const s of stages) {
    const impl = s.impl;
    if (impl.type === "chunk") {
      group.push({
        name: s.name,
        meter: s.meter,
        cardinality: s.op.cardinality,
        hooks: impl,
        onBarrier: s.onBarrier,
        process: impl.process,
      });
      continue;
    }
    flushGroup();
    const meter = s.meter;
    const enter = s.onBarrierEnter;
    const counted = Stream.map(stream, (c: Chunk<unknown>) => {
      if (!c.barrier) meter.in(c.records.length, c.bytes);
      else enter?.(c.barrier);
      return c;
    });
    stream = Stream.mapError(impl.apply(counted), (e) => toSluiceError(e, s.name));
    group.push({ name: s.name, meter, cardinality: s.op.cardinality, hooks: impl, onBarrier: s.onBarrier });
    flushGroup();
  }
  flushGroup();
  return stream;
}

function fused(
  input: Stream.Stream<Chunk<unknown>, SluiceError>,
  group: GroupStage[],
  clock: Clock,
): Stream.Stream<Chunk<unknown>, SluiceError> {
  const n = group.length;

  /**
   * Runs `chunk` through stages k..n-1; sync unless a stage returns a promise.
   * Each stage's time is read once at its end and reused as the next stage's
   * start (k+1 clock reads per chunk for k stages, not 2k: a read costs
   * 100-200 ns on some machines, as much as a cheap stage's work on a chunk).
   */
  const runFrom = (k: number, chunk: Chunk<unknown>, startedAt = -1): Out | Promise<Out> => {
    if (chunk.barrier) return passBarrier(k, chunk);
    let cur = chunk;
    let t0 = startedAt;
    for (let j = k; j < n; j++) {
      const st = group[j];
      const process = st.process;
      const m = st.meter;
      if (!process) {
        m.out(cur.records.length);
        continue;
      }
      const inRows = cur.records.length;
      m.in(inRows, cur.bytes);
      const dead0 = m.totals.deadLettered;
      if (t0 < 0) t0 = clock.monotonic();
      const r = process(cur.records, cur);
      if (r instanceof Promise) {
        // Async: CPU time is the synchronous part (one more clock read, on this path only).
        const from = cur;
        const began = t0;
        const cpu = clock.monotonic() - began;
        return r.then((records) => {
          const t1 = clock.monotonic();
          account(st, inRows, records.length, dead0, t1 - began, cpu);
          return records.length === 0 ? [] : runFrom(j + 1, withRecords(from, records), t1);
        });
      }
      const t1 = clock.monotonic();
      account(st, inRows, r.length, dead0, t1 - t0, t1 - t0);
      t0 = t1;
      if (r.length === 0) return [];
      if (r !== cur.records) cur = withRecords(cur, r);
    }
    return [cur];
  };

  const passBarrier = async (k: number, chunk: Chunk<unknown>): Promise<Out> => {
    const barrier = chunk.barrier as Barrier;
    const out: Out = [];
    for (let j = k; j < n; j++) {
      const st = group[j];
      if (barrier.final && st.hooks.end) {
        const records = await st.hooks.end();
        if (records.length) {
          st.meter.out(records.length);
          out.push(...(await runFrom(j + 1, { records, seq: -1, bytes: 0, createdAt: clock.monotonic() })));
        }
      }
      if (st.hooks.snapshot) barrier.snapshots[st.name] = await st.hooks.snapshot();
      st.onBarrier?.(barrier);
    }
    out.push(chunk);
    return out;
  };

  const processArray = (arr: ReadonlyArray<Chunk<unknown>>): Out | Promise<Out> => {
    let out: Out | undefined;
    for (let i = 0; i < arr.length; i++) {
      const r = runFrom(0, arr[i]);
      if (r instanceof Promise) {
        const done = out ?? [];
        return r.then(async (first) => {
          done.push(...first);
          for (let k = i + 1; k < arr.length; k++) done.push(...(await runFrom(0, arr[k])));
          return done;
        });
      }
      if (r.length) {
        if (out) out.push(...r);
        else out = r;
      }
    }
    return out ?? [];
  };

  const stageName = group.map((g) => g.name).join("+");

  return Stream.transformPull(input, (pull) => {
    const step = (
      arr: ReadonlyArray<Chunk<unknown>>,
    ): Effect.Effect<readonly [Chunk<unknown>, ...Chunk<unknown>[]], unknown> => {
      let r: Out | Promise<Out>;
      try {
        r = processArray(arr);
      } catch (e) {
        return Effect.fail(toSluiceError(e, stageName));
      }
      if (r instanceof Promise) {
        return Effect.flatMap(
          Effect.tryPromise({ try: () => r as Promise<Out>, catch: (e) => toSluiceError(e, stageName) }),
          (out) =>
            out.length
              ? Effect.succeed(out as [Chunk<unknown>, ...Chunk<unknown>[]])
              : Effect.flatMap(pull, step),
        );
      }
      return r.length
        ? Effect.succeed(r as [Chunk<unknown>, ...Chunk<unknown>[]])
        : Effect.flatMap(pull, step);
    };
    return Effect.succeed(Effect.flatMap(pull, step));
  }) as Stream.Stream<Chunk<unknown>, SluiceError>;
}

/** A chunk's figures: `ms` of wall time (latency and busy), `cpuMs` of it synchronous. */
function account(
  st: GroupStage,
  inRows: number,
  outRows: number,
  dead0: number,
  ms: number,
  cpuMs: number,
): void {
  const m = st.meter;
  m.out(outRows);
  m.chunk(ms);
  m.cpu(cpuMs);
  if (st.cardinality === "filter") {
    const dead = m.totals.deadLettered - dead0;
    const dropped = inRows - outRows - dead;
    if (dropped > 0) m.filtered(dropped);
  }
}
