/**
 * @module The three kinds of component a pipeline is made of — sources,
 * operators and sinks — and the context the engine hands each of them. They
 * are values: building one does no I/O; the engine calls `open`/`make` when a
 * run starts, with the run's context (clock, events, dead letter, state dir).
 */
import type * as Stream from "effect/Stream";
import type { EventInput, Position } from "../events/schema.ts";
import type { Clock } from "../runtime/clock.ts";
import type { Chunk, SourceOffset } from "./chunk.ts";
import type { SluiceError } from "./errors.ts";

export const SourceTypeId: unique symbol = Symbol.for("sluice/Source") as never;
export const OperatorTypeId: unique symbol = Symbol.for("sluice/Operator") as never;
export const SinkTypeId: unique symbol = Symbol.for("sluice/Sink") as never;

/** A record that could not be processed, as handed to the dead letter. */
export interface DeadLetterInput {
  readonly reason: string;
  readonly error?: unknown;
  readonly attempts?: number;
  readonly position?: Position;
  /** The record's text; cut to a bounded size (with a marker) in the dead letter. */
  readonly raw?: string;
  /** The whole record's size in bytes when `raw` is only its start. */
  readonly rawBytes?: number;
  readonly record?: unknown;
  /** Defaults to the stage reporting it. */
  readonly stage?: string;
}

/** What every component gets from the engine for a run. */
export interface RunContext {
  readonly runId: string;
  readonly pipeline: string;
  readonly clock: Clock;
  /** The state directory for this pipeline and run (`.sluice/<pipeline>/<run>/`). */
  readonly runDir: string;
  /** The state directory root (`SLUICE_HOME` or `.sluice`). */
  readonly home: string;
  /** Aborted when the run is cancelled. */
  readonly signal: AbortSignal;
  /** Aborted when a stop is requested (Ctrl-C, SIGTERM, cancel): the run drains and takes a last checkpoint. */
  readonly stopping?: AbortSignal;
  /** Publishes an event on the run's bus (stamps time, run and pipeline). */
  emit(event: EventInput): void;
}

/**
 * A setting of a stage that adaptive configuration may change during a run
 * (`runPipeline(p, { plugins: [adaptive()] })`, `sluice run --adaptive`). The stage
 * offers it with `ctx.offerKnob`; the controller reads `get()`, and calls
 * `set()` with a whole number within `min..max`, between chunks, from the
 * clock's timer. Each change is published as a `config.changed` event.
 */
export interface Knob {
  /** The setting, as it appears in `config.changed`: `chunk.rows` or `workers`. */
  readonly setting: "chunk.rows" | "workers";
  readonly min: number;
  readonly max: number;
  get(): number;
  set(value: number): void;
}

/** The context of one stage. */
export interface StageContext extends RunContext {
  /** Stage name, unique within the pipeline (`"2:map"`). */
  readonly stage: string;
  readonly index: number;
  /** What a failing user function does: dead-letter the record (default) or stop the run. */
  readonly onError: "dead-letter" | "fail";
  /** Sends a record to the dead letter (counted against this stage). */
  deadLetter(item: DeadLetterInput): void;
  /**
   * Reports busy time for stages the engine cannot time itself: wall time
   * with at least one chunk or call in progress, overlaps counted once.
   */
  reportBusy(ms: number): void;
  /**
   * Reports one chunk's latency through a stage the engine cannot time itself
   * (wall time from taking the chunk to its output being ready; counted in the
   * chunk-latency percentiles, not as busy time: report that with `reportBusy`).
   */
  reportChunk(ms: number): void;
  /** Reports CPU time: the synchronous part of calls the engine does not time (async continuations). */
  reportCpu(ms: number): void;
  /** Offers a setting to adaptive configuration; does nothing when the run is not adaptive. */
  offerKnob(knob: Knob): void;
  /**
   * Opens a side output of this stage into `sink` (a window's `late` records):
   * records written to it leave the stage's main flow and are counted as
   * `sideOutput` on the stage. Call it in `Operator.make`, once per `name`.
   * The run opens the sink before reading, cuts what was written as each
   * checkpoint barrier passes the stage, writes and commits it with the
   * checkpoint (the token is in the checkpoint, so a resume reconciles it as
   * the main sink) and finishes it when the run completes.
   */
  sideOutput<T>(name: string, sink: Sink<T>): SideOutput<T>;
}

/** What `StageContext.sideOutput` gives a stage: where to send records beside its output. */
export interface SideOutput<T> {
  /** Sends one record to the side output (buffered until the next checkpoint). */
  write(record: T): void;
}

export interface SourceContext extends StageContext {
  /** Where to continue from, when resuming a run. */
  readonly resumeFrom?: SourceOffset;
  /** Reports bytes read so far (for progress and ETA). */
  reportRead(bytes: number): void;
  /**
   * Registers `cb`, called after each checkpoint is durable (every plugin's
   * `checkpoint` hook, the journal's append and fsync, has returned), with
   * the checkpoint's id and the source offset it covers (the `end` of the
   * last chunk before its barrier). A source that acknowledges its input
   * upstream (a broker) acks what that offset covers here and never sooner,
   * so a crash never loses a record the upstream thinks delivered. Called in
   * checkpoint order and awaited before the next checkpoint; a rejection
   * fails the run. Absent when the source is opened outside a run (a cache
   * replay): such a source acknowledges nothing.
   */
  readonly onCommitted?: (cb: (committed: Committed) => void | Promise<void>) => void;
}

/** A checkpoint made durable, as `SourceContext.onCommitted` reports it. */
export interface Committed {
  readonly checkpointId: number;
  /** The source offset the checkpoint covers (undefined before the first chunk). */
  readonly offset: SourceOffset | undefined;
}

export interface Source<A> {
  readonly [SourceTypeId]: true;
  /** Short description, e.g. `csv(data/orders.csv)`. */
  readonly name: string;
  /** Total input size in bytes when known (for ETA); called before `open`. */
  size?(ctx: RunContext): Promise<number | undefined>;
  /** Checks the input exists and is readable, so errors come before any work. */
  check?(ctx: RunContext): Promise<void>;
  open(ctx: SourceContext): Stream.Stream<Chunk<A>, SluiceError>;
  /**
   * Parses one dead-lettered record's raw input again, as `open` would have
   * read it at `position` (a redrive of source-stage dead letters: `sluice
   * redrive`). Returns the records it now gives and the failures, each with
   * its position; a source without it cannot redrive source-stage failures.
   */
  reparse?(raw: string, position: Position, ctx: RunContext): Promise<Reparsed<A>>;
}

/** What `Source.reparse` gives back: the records read and the ones that still fail. */
export interface Reparsed<A> {
  readonly records: ReadonlyArray<A>;
  readonly failures: ReadonlyArray<DeadLetterInput>;
}

/**
 * How a stage runs. `chunk` stages are fused by the engine into one per-chunk
 * loop (and may return a promise when their user function is async); `stream`
 * stages transform the Effect stream of chunks (concurrency, re-chunking,
 * RxJS) and must pass barrier chunks through in order, after the chunks
 * before them.
 */
export type StageImpl<A, B> =
  | {
      readonly type: "chunk";
      /** Processes the records of one chunk. May call `ctx.deadLetter`. Never sees barriers. */
      process(records: ReadonlyArray<A>, chunk: Chunk<A>): ReadonlyArray<B> | Promise<ReadonlyArray<B>>;
    }
  | {
      readonly type: "stream";
      apply(input: Stream.Stream<Chunk<A>, SluiceError>): Stream.Stream<Chunk<B>, SluiceError>;
    };

/** Optional lifecycle of a stage instance. */
export interface StageHooks<B> {
  /**
   * Snapshot of the stage's state at a barrier (msgpack-serialisable). A promise holds the
   * stage (and the barrier) until it settles: a state backend makes what changed durable here
   * and returns a small token.
   */
  snapshot?(): unknown;
  /** Restores a snapshot taken by `snapshot` (on resume); may return a promise. */
  restore?(state: unknown): void | Promise<void>;
  /** Records still held when input ends (e.g. open windows, aggregates). */
  end?(): ReadonlyArray<B> | Promise<ReadonlyArray<B>>;
  /** Releases resources (workers, files). Called once, on success or failure. */
  close?(): Promise<void> | void;
  /** Called before any record is read: validate, start pools. */
  start?(): Promise<void>;
}

export type Stage<A, B> = StageImpl<A, B> & StageHooks<B>;

export interface Operator<A, B> {
  readonly [OperatorTypeId]: true;
  /** Operator name, e.g. `map`, `filter`. */
  readonly name: string;
  /**
   * `one` (each input gives one output or a dead letter), `filter` (0 or 1),
   * `many` (any number). Drives how counts reconcile.
   */
  readonly cardinality: "one" | "filter" | "many";
  /** Creates the stage for one run. */
  make(ctx: StageContext): Stage<A, B>;
}

/** What a sink writer gives back at a checkpoint so resume can reconcile. */
export type CommitToken = unknown;

export interface SinkContext extends StageContext {
  /** On resume: the token this sink returned at the checkpoint we resume from. */
  readonly resumeToken?: CommitToken;
  /**
   * Add to what the target already holds instead of replacing it (a redrive
   * writes the records it recovers after the first run's output). Only sinks
   * with `appends: true` honour it.
   */
  readonly append?: boolean;
}

export interface SinkWriter<A> {
  write(chunk: Chunk<A>): Promise<void> | void;
  /** Makes everything written so far durable; returns a token for the checkpoint. */
  commit(checkpointId: number): Promise<CommitToken> | CommitToken;
  /** Finishes (after the final commit): rename temp files, close handles. */
  close(): Promise<void>;
  /**
   * Stops without finishing, after a failure or an interruption (Ctrl-C): what
   * was committed stays, so a resumed run can continue from it; what was
   * written since the last commit may be dropped. Never publishes partial
   * output as if the run had completed.
   */
  abort?(): Promise<void>;
  /** Where the output went, for the summary. */
  readonly target?: string;
}

export interface Sink<A> {
  readonly [SinkTypeId]: true;
  readonly name: string;
  /** `exactly-once` sinks commit atomically at checkpoints; others are at-least-once. */
  readonly delivery: "exactly-once" | "at-least-once";
  /** The sink honours `SinkContext.append` (file sinks, DuckDB): `sluice redrive` can write into it. */
  readonly appends?: boolean;
  open(ctx: SinkContext): Promise<SinkWriter<A>>;
}

export function isSource(u: unknown): u is Source<unknown> {
  return typeof u === "object" && u !== null && SourceTypeId in u;
}
export function isOperator(u: unknown): u is Operator<unknown, unknown> {
  return typeof u === "object" && u !== null && OperatorTypeId in u;
}
export function isSink(u: unknown): u is Sink<unknown> {
  return typeof u === "object" && u !== null && SinkTypeId in u;
}
