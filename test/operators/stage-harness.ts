/**
 * Test helper: drives one operator's stage directly (no pipeline), with a
 * virtual clock, capturing events, dead letters and side outputs — so wrapper operators are
 * tested on scripted sequences and virtual time.
 */
import type { SluiceEvent } from "../../src/events/schema.ts";
import { makeChunk } from "../../src/pipeline/chunk.ts";
import type { DeadLetterInput, Operator, Stage, StageContext } from "../../src/pipeline/types.ts";
import { VirtualClock } from "../../src/testing/virtual-clock.ts";

export interface Harness {
  readonly clock: VirtualClock;
  readonly ctx: StageContext;
  readonly events: SluiceEvent[];
  readonly dead: Array<DeadLetterInput & { stage: string }>;
  /** What the stage wrote to each side output, by name (`late`). */
  readonly sides: Record<string, unknown[]>;
  eventsOf<K extends SluiceEvent["kind"]>(kind: K): Array<Extract<SluiceEvent, { kind: K }>>;
}

export function harness(options: { home?: string; clock?: VirtualClock; pipeline?: string } = {}): Harness {
  const clock = options.clock ?? new VirtualClock(1_700_000_000_000);
  const events: SluiceEvent[] = [];
  const dead: Array<DeadLetterInput & { stage: string }> = [];
  const sides: Record<string, unknown[]> = {};
  const ctx: StageContext = {
    runId: "run-1",
    pipeline: options.pipeline ?? "test",
    clock,
    runDir: options.home ?? "/nonexistent",
    home: options.home ?? "/nonexistent",
    signal: new AbortController().signal,
    emit: (e) =>
      events.push({ ...e, ts: e.ts ?? clock.now(), runId: "run-1", pipeline: "test" } as SluiceEvent),
    stage: "1:op",
    index: 1,
    onError: "dead-letter",
    deadLetter: (item) => {
      dead.push({ ...item, stage: item.stage ?? "1:op" });
    },
    reportBusy: () => {},
    reportChunk: () => {},
    reportCpu: () => {},
    offerKnob: () => {},
    sideOutput: <T>(name: string) => {
      const out: unknown[] = [];
      sides[name] = out;
      return { write: (r: T) => void out.push(r) };
    },
  };
  return {
    clock,
    ctx,
    events,
    dead,
    sides,
    eventsOf: (kind) => events.filter((e) => e.kind === kind) as never,
  };
}

/** Creates and starts the stage of `op` in the harness. */
export async function open<A, B>(h: Harness, op: Operator<A, B>): Promise<Stage<A, B>> {
  const stage = op.make(h.ctx);
  await stage.start?.();
  return stage;
}

let seq = 0;

/** Runs one chunk of `records` through a chunk stage. */
export function processChunk<A, B>(
  stage: Stage<A, B>,
  records: A[],
): ReadonlyArray<B> | Promise<ReadonlyArray<B>> {
  if (stage.type !== "chunk") throw new Error("not a chunk stage");
  return stage.process(records, makeChunk(records, { seq: seq++, start: { index: 0 } }));
}

/**
 * Runs `promise` to completion while advancing virtual time in `step` ms
 * increments (at most `limit` ms). Between steps it lets pending I/O callbacks
 * run (a pipeline writes files), so code that sleeps on the clock and code
 * that waits for the disk both finish; nothing waits on real time.
 */
export async function drive<T>(
  clock: VirtualClock,
  promise: Promise<T> | T,
  step = 10,
  limit = 3_600_000,
): Promise<T> {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  let failed = false;
  Promise.resolve(promise).then(
    (v) => {
      done = true;
      value = v;
    },
    (e) => {
      done = true;
      failed = true;
      error = e;
    },
  );
  for (let t = 0; !done && t <= limit; t += step) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!done) await clock.advance(step);
  }
  if (!done) throw new Error(`still pending after ${limit} ms of virtual time`);
  if (failed) throw error;
  return value as T;
}
