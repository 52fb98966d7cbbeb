/**
 * @module Running a pipeline: opens the source, stages and sink with the run's
 * context, composes them into one Effect stream of chunks, injects checkpoint
 * barriers after source chunks, commits the sink and records a `checkpoint`
 * event at each barrier, and publishes metrics per interval. Resume restores
 * the source offset, operator snapshots, sink token and counters from the
 * checkpoint it is given (the journal layer finds it).
 */
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Pull from "effect/Pull";
import * as Stream from "effect/Stream";
import { EventBus } from "../events/bus.ts";
import type { EventInput, EventOf, SluiceEvent } from "../events/schema.ts";
import { AdaptiveController, type AdaptiveOptions, resolveAdaptive } from "../metrics/adaptive.ts";
import { type Clock, systemClock } from "../runtime/clock.ts";
import { runtimeName, runtimeVersion } from "../runtime/detect.ts";
import { fs, paths } from "../runtime/fs.ts";
import { cpuCount, cwd, env, eventLoopDelay, host, sampleResources } from "../runtime/process.ts";
import type { Barrier, Chunk, SourceOffset } from "./chunk.ts";
import { ConfigError, describeError, SinkError, type SluiceError } from "./errors.ts";
import { DeadLetterFile } from "./internal/dead-letter.ts";
import { StageMeter, type StageTotals } from "./internal/meter.ts";
import { rechunk, rowsSizer } from "./internal/rechunk.ts";
import { composeStages, type LiveStage, toSluiceError } from "./internal/stages.ts";
import { type Pipeline, stageNames } from "./pipeline.ts";
import type {
  CommitToken,
  DeadLetterInput,
  RunContext,
  SinkContext,
  SinkWriter,
  SourceContext,
  StageContext,
} from "./types.ts";
import { toMillis } from "./units.ts";

/** What a resumed run continues from (read from the journal's last checkpoint). */
export interface ResumePoint {
  readonly runId: string;
  readonly checkpoint: EventOf<"checkpoint">;
}

export interface RunOptions {
  /** State directory root; default `SLUICE_HOME` or `./.sluice`. */
  readonly home?: string;
  readonly runId?: string;
  readonly clock?: Clock;
  /** The bus to publish on (subscribe before running to see every event). */
  readonly bus?: EventBus;
  /** Aborting stops reading, takes a last checkpoint and ends the run as `interrupted`. */
  readonly signal?: AbortSignal;
  readonly resume?: ResumePoint;
  /**
   * Called with each checkpoint event after the sink committed; the run waits
   * for it (the journal makes the checkpoint durable here), and publishes the
   * event on the bus only once it resolves, so no consumer sees a checkpoint
   * that is not durable. A rejection fails the run.
   */
  readonly onCheckpoint?: (checkpoint: EventOf<"checkpoint">) => Promise<void>;
  /** Sample CPU/memory/event-loop every second (default true). */
  readonly sampleResources?: boolean;
  /**
   * Adaptive configuration (off by default): tunes the source chunk size and
   * each parallelMap's worker count during the run from the live figures,
   * publishing each change as a `config.changed` event with its reason.
   * `true` takes the pipeline's `adaptive` settings, else the defaults.
   */
  readonly adaptive?: boolean | AdaptiveOptions;
}

export interface RunSummary {
  readonly runId: string;
  readonly pipeline: string;
  readonly status: "completed" | "failed" | "interrupted";
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly filtered: number;
  readonly deadLettered: number;
  readonly bytes: number;
  readonly durationMs: number;
  readonly rowsPerSecond: number;
  readonly checkpoints: number;
  readonly output?: string;
  readonly deadLetterFile?: string;
  readonly runDir: string;
  readonly stages: ReadonlyArray<StageTotals>;
  readonly error?: SluiceError;
}

/** The state directory root: `SLUICE_HOME`, or `.sluice` in the working directory. */
export function stateHome(home?: string): string {
  return paths.resolve(home ?? env("SLUICE_HOME") ?? paths.join(cwd(), ".sluice"));
}

/** A sortable, unique run id: `20261122T171500123Z-1a2b3c`. */
export function newRunId(clock: Clock = systemClock): string {
  const t = new Date(clock.now()).toISOString().replace(/[-:]/g, "").replace(".", "");
  const rand = crypto.getRandomValues(new Uint8Array(3));
  return `${t}-${Array.from(rand, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** A hash of the pipeline's shape, to detect an incompatible change before resuming. */
export function definitionHash(p: Pipeline<unknown>): string {
  const shape = [p.source.name, ...stageNames(p), p.sink?.name ?? ""].join("|");
  let h = 0x811c9dc5;
  for (let i = 0; i < shape.length; i++) h = Math.imul(h ^ shape.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/**
 * Runs a pipeline to completion and returns its summary. Failures of the run
 * (not of single records, which go to the dead letter) are returned in
 * `summary.error` with status `failed`; they are never thrown.
 *
 * @example
 * ```ts
 * const summary = await runPipeline(myPipeline);
 * console.log(summary.rowsOut, summary.output);
 * ```
 */
export async function runPipeline(p: Pipeline<unknown>, options: RunOptions = {}): Promise<RunSummary> {
  if (!p.sink) {
    throw new ConfigError(`pipeline "${p.name}" has no sink`, {
      hint: "End the definition with .to(sink), e.g. .to(ndjson('out/x.ndjson')), or use runCollect().",
    });
  }
  const clock = options.clock ?? systemClock;
  const bus = options.bus ?? new EventBus();
  const home = stateHome(options.home);
  const runId = options.resume?.runId ?? options.runId ?? newRunId(clock);
  const runDir = paths.join(home, p.name, runId);
  await fs.mkdirp(runDir, 0o700);

  const controller = new AbortController();
  const stopRequested = { value: false };
  const onAbort = () => {
    stopRequested.value = true;
  };
  options.signal?.addEventListener("abort", onAbort);
  if (options.signal?.aborted) stopRequested.value = true;

  const emit = (e: EventInput): void => {
    bus.publish({ ...e, ts: e.ts ?? clock.now(), runId, pipeline: p.name } as SluiceEvent);
  };
  const runCtx: RunContext = {
    runId,
    pipeline: p.name,
    clock,
    runDir,
    home,
    signal: controller.signal,
    emit,
  };
  const onError = p.options.onError ?? "dead-letter";
  // Adaptive runs take the options given to the run, else the pipeline's settings.
  const adaptive = options.adaptive
    ? new AdaptiveController(
        resolveAdaptive(
          options.adaptive === true ? (p.options.adaptive ?? true) : options.adaptive,
          cpuCount(),
        ),
        { runId, clock, emit },
      )
    : undefined;
  const deadLetters = new DeadLetterFile(paths.join(runDir, "dead-letter.ndjson"));

  const t0 = clock.monotonic();
  const names = stageNames(p);
  const sourceMeter = new StageMeter("source", 0, t0);
  const sinkMeter = new StageMeter("sink", names.length + 1, t0);
  const meters: StageMeter[] = [sourceMeter];

  const stageCtx = (stage: string, index: number, meter: StageMeter): StageContext => ({
    ...runCtx,
    stage,
    index,
    onError,
    reportBusy: (ms) => meter.busy(ms),
    reportChunk: (ms) => meter.latency(ms),
    reportCpu: (ms) => meter.cpu(ms),
    offerKnob: (knob) => adaptive?.offer(stage, knob),
    deadLetter: (item: DeadLetterInput) => {
      meter.dead(1);
      const ev: EventOf<"dead.letter"> = {
        kind: "dead.letter",
        ts: clock.now(),
        runId,
        pipeline: p.name,
        stage: item.stage ?? stage,
        reason: item.reason,
        error: item.error === undefined ? undefined : describeError(item.error),
        attempts: item.attempts ?? 1,
        position: item.position ?? {},
        raw: item.raw,
        record: item.record,
      };
      deadLetters.add(ev);
      bus.publish(ev);
    },
  });

  // Resume state. A checkpoint taken at the final barrier (`$final`) means
  // the input was fully read and every stage's end() output is in the sink:
  // a run resumed from it reads nothing and must not call end() again.
  const cp = options.resume?.checkpoint;
  const ended = cp?.operatorState.$final === true;
  let checkpointId = cp ? cp.id : 0;
  if (cp) {
    const dl = cp.operatorState.$deadLetter as { bytes: number; count: number } | undefined;
    await deadLetters.restore(dl?.bytes ?? 0, dl?.count ?? 0);
    sourceMeter.restore({ rowsIn: cp.rowsIn, rowsOut: cp.rowsIn });
  }

  const stages: LiveStage[] = [];
  let writer: SinkWriter<unknown> | undefined;
  let checkpoints = 0;
  let rowsSinceCheckpoint = 0;
  let lastCheckpointAt = t0;
  let checkpointDue = false;
  const cpOption = p.options.checkpoint;
  const cpEveryMs =
    cpOption === false ? Number.POSITIVE_INFINITY : toMillis(cpOption?.every ?? "1s", "checkpoint.every");
  const cpRows = cpOption === false ? Number.POSITIVE_INFINITY : (cpOption?.rows ?? Number.POSITIVE_INFINITY);
  let lastOffset: SourceOffset | undefined = cp?.sourceOffset as SourceOffset | undefined;
  let bytesRead = 0;
  let totalBytes: number | undefined;
  // A signal shared by many runs must not collect a listener per run.
  const stopTimers: Array<() => void> = [() => options.signal?.removeEventListener("abort", onAbort)];
  let error: SluiceError | undefined;
  let status: RunSummary["status"] = "completed";

  const totals = () => {
    const dead = meters.reduce((a, m) => a + m.totals.deadLettered, sinkMeter.totals.deadLettered);
    const filtered = meters.reduce((a, m) => a + m.totals.filtered, 0);
    return {
      rowsIn: sourceMeter.totals.rowsOut + sourceMeter.totals.deadLettered,
      // A record the sink dead-letters (a value its table cannot hold) is not out.
      rowsOut: sinkMeter.totals.rowsIn - sinkMeter.totals.deadLettered,
      filtered,
      dead,
    };
  };

  const flushMetrics = () => {
    const now = clock.monotonic();
    for (const m of meters) {
      const ev = m.flush(now);
      if (ev) emit(ev);
    }
    const ev = sinkMeter.flush(now);
    if (ev) emit(ev);
  };

  try {
    // Open everything before reading a record, so configuration errors come first.
    await p.source.check?.(runCtx);
    totalBytes = await p.source.size?.(runCtx);
    for (let i = 0; i < p.operators.length; i++) {
      const op = p.operators[i];
      const meter = new StageMeter(names[i], i + 1, t0);
      const impl = op.make(stageCtx(names[i], i + 1, meter));
      stages.push({ name: names[i], op, impl, meter });
      meters.push(meter);
      await impl.start?.();
      if (cp && impl.restore && cp.operatorState[names[i]] !== undefined)
        impl.restore(cp.operatorState[names[i]]);
    }
    if (cp) {
      for (const t of cp.stageTotals) meters.find((m) => m.stage === t.stage)?.restore(t);
      sourceMeter.restore(
        cp.stageTotals.find((t) => t.stage === "source") ?? { rowsIn: cp.rowsIn, rowsOut: cp.rowsIn },
      );
      sinkMeter.restore(
        cp.stageTotals.find((t) => t.stage === "sink") ?? { rowsIn: cp.rowsOut, rowsOut: cp.rowsOut },
      );
    }
    const sinkCtx: SinkContext = {
      ...stageCtx("sink", names.length + 1, sinkMeter),
      resumeToken: cp?.sinkToken,
    };
    writer = await p.sink.open(sinkCtx);

    emit({
      kind: "run.started",
      stages: names,
      source: p.source.name,
      sink: p.sink.name,
      runtime: runtimeName,
      runtimeVersion,
      host: host(),
      sourceBytes: totalBytes,
      resumedFrom: cp?.id,
      definitionHash: definitionHash(p),
      ...(p.options.alerts ? { alerts: { ...p.options.alerts } } : {}),
    });

    // Live progress (100 ms) and per-interval metrics.
    stopTimers.push(
      clock.every(100, () => {
        const t = totals();
        emit({
          kind: "run.progress",
          rowsIn: t.rowsIn,
          rowsOut: t.rowsOut,
          filtered: t.filtered,
          deadLettered: t.dead,
          bytes: bytesRead,
          totalBytes,
          elapsedMs: clock.monotonic() - t0,
        });
      }),
    );
    stopTimers.push(
      clock.every(toMillis(p.options.metricsInterval ?? "1s", "metricsInterval"), flushMetrics),
    );
    if (options.sampleResources !== false) {
      const loop = eventLoopDelay();
      let last = clock.monotonic();
      sampleResources();
      stopTimers.push(
        clock.every(1000, () => {
          const s = sampleResources();
          const now = clock.monotonic();
          emit({
            kind: "resource.sample",
            rssBytes: s.rssBytes,
            heapUsedBytes: s.heapUsedBytes,
            cpuPercent: (s.cpuMs / Math.max(1, now - last)) * 100,
            eventLoopDelayMs: loop.p99Ms(),
          });
          loop.reset();
          last = now;
        }),
        () => loop.stop(),
      );
    }

    // Adaptive: the source's chunks are re-cut to a row count the controller
    // tunes, starting from the size of the source's first chunk. The cut comes
    // after barrier insertion, so barriers stay at source-chunk edges (their
    // offsets exact) and flush a partial chunk before they pass.
    let sourceRows = 0;
    if (adaptive) {
      adaptive.offer("source", {
        setting: "chunk.rows",
        min: 1,
        max: Number.MAX_SAFE_INTEGER,
        get: () => sourceRows || 1000,
        set: (n) => {
          sourceRows = n;
        },
      });
      const sub = bus.subscribe(
        (e) => adaptive.observe(e),
        ["run.started", "run.progress", "stage.progress", "resource.sample", "worker.stats"],
      );
      stopTimers.push(adaptive.start(), () => sub.unsubscribe());
    }

    const sourceCtx: SourceContext = {
      ...stageCtx("source", 0, sourceMeter),
      resumeFrom: lastOffset,
      reportRead: (b) => {
        bytesRead = b;
      },
    };

    const barrier = (final: boolean): Chunk<unknown> => {
      const b: Barrier = { id: ++checkpointId, offset: lastOffset, final, snapshots: {} };
      rowsSinceCheckpoint = 0;
      lastCheckpointAt = clock.monotonic();
      checkpointDue = false;
      return { records: [], seq: -1, bytes: 0, createdAt: lastCheckpointAt, barrier: b };
    };
    // Time-based checkpoints: a timer (a tenth of the interval, 1-100 ms)
    // raises a flag the source checks per chunk, instead of reading the clock
    // per chunk (a read costs 100-200 ns on some machines).
    if (Number.isFinite(cpEveryMs)) {
      stopTimers.push(
        clock.every(Math.min(100, Math.max(1, cpEveryMs / 10)), () => {
          if (clock.monotonic() - lastCheckpointAt >= cpEveryMs) checkpointDue = true;
        }),
      );
    }

    // Source: count, stop on request, insert barriers after chunks, and the
    // final barrier at the end. One stream layer (not takeWhile + mapArray +
    // concat): each layer costs every chunk a few Effect steps.
    const opened: Stream.Stream<Chunk<unknown>, SluiceError> = ended
      ? Stream.empty
      : p.source.open(sourceCtx);
    const source: Stream.Stream<Chunk<unknown>, SluiceError> = Stream.transformPull(opened, (pull) =>
      Effect.sync(() => {
        let done = false;
        const last = () => {
          done = true;
          return [barrier(!stopRequested.value && !ended)] as [Chunk<unknown>];
        };
        const step = (arr: ReadonlyArray<Chunk<unknown>>): [Chunk<unknown>, ...Chunk<unknown>[]] => {
          let out: Chunk<unknown>[] | undefined;
          for (let i = 0; i < arr.length; i++) {
            const c = arr[i];
            if (stopRequested.value) {
              // Stop reading: nothing from here on is counted or passed on.
              out ??= arr.slice(0, i);
              out.push(...last());
              break;
            }
            if (sourceRows === 0) sourceRows = c.records.length;
            sourceMeter.out(c.records.length);
            sourceMeter.in(c.records.length, c.bytes);
            rowsSinceCheckpoint += c.records.length;
            if (c.end) lastOffset = c.end;
            if (rowsSinceCheckpoint >= cpRows || checkpointDue) {
              out ??= arr.slice(0, i);
              out.push(c, barrier(false));
            } else out?.push(c);
          }
          return (out ?? arr) as [Chunk<unknown>, ...Chunk<unknown>[]];
        };
        const pulled = Pull.catchDone(pull, () => Effect.sync(last));
        type Out = [Chunk<unknown>, ...Chunk<unknown>[]];
        return Effect.suspend(
          (): Effect.Effect<Out, SluiceError | Cause.Done> =>
            done ? Cause.done() : Effect.map(pulled, (arr) => (done ? (arr as Out) : step(arr))),
        );
      }),
    );

    const cut = adaptive?.knobs().some((k) => k.stage === "source")
      ? rechunk(
          source,
          rowsSizer(() => sourceRows),
        )
      : source;
    const stream = composeStages(cut, stages, clock);
    const w = writer;

    const commit = async (b: Barrier): Promise<void> => {
      let token: CommitToken;
      try {
        token = await w.commit(b.id);
      } catch (e) {
        throw new SinkError(`sink ${p.sink?.name} could not commit checkpoint ${b.id}: ${describeError(e)}`, {
          cause: e,
        });
      }
      await deadLetters.flush(true);
      flushMetrics();
      const t = totals();
      const event: EventOf<"checkpoint"> = {
        kind: "checkpoint",
        ts: clock.now(),
        runId,
        pipeline: p.name,
        id: b.id,
        sourceOffset: b.offset,
        rowsIn: sourceMeter.totals.rowsOut,
        operatorState: {
          ...b.snapshots,
          $deadLetter: { bytes: deadLetters.bytes, count: deadLetters.count },
          ...(b.final || ended ? { $final: true } : {}),
        },
        sinkToken: token,
        stageTotals: [...meters, sinkMeter].map((m) => ({
          stage: m.stage,
          rowsIn: m.totals.rowsIn,
          rowsOut: m.totals.rowsOut,
          filtered: m.totals.filtered,
          deadLettered: m.totals.deadLettered,
        })),
        rowsOut: t.rowsOut,
        filtered: t.filtered,
        deadLettered: t.dead,
      };
      // While the checkpoint is made durable (journal append + fsync), events
      // wait, so the bus delivers them after it, in the journal's order.
      const release = bus.hold();
      try {
        await options.onCheckpoint?.(event);
      } catch (e) {
        release();
        throw e;
      }
      release(event);
      checkpoints++;
    };

    const writeChunk = (chunk: Chunk<unknown>): Effect.Effect<void, SluiceError> => {
      if (chunk.barrier) {
        const b = chunk.barrier;
        return Effect.tryPromise({ try: () => commit(b), catch: (e) => toSluiceError(e, "sink") });
      }
      const n = chunk.records.length;
      const ts = clock.monotonic();
      const dead0 = sinkMeter.totals.deadLettered;
      sinkMeter.in(n, chunk.bytes);
      let r: void | Promise<void>;
      try {
        r = w.write(chunk);
      } catch (e) {
        return Effect.fail(
          new SinkError(`sink ${p.sink?.name} failed to write: ${describeError(e)}`, { cause: e }),
        );
      }
      if (r instanceof Promise) {
        return Effect.tryPromise({
          try: async () => {
            await r;
            sinkMeter.out(n - (sinkMeter.totals.deadLettered - dead0));
            sinkMeter.chunk(clock.monotonic() - ts);
          },
          catch: (e) =>
            new SinkError(`sink ${p.sink?.name} failed to write: ${describeError(e)}`, { cause: e }),
        });
      }
      sinkMeter.out(n - (sinkMeter.totals.deadLettered - dead0));
      sinkMeter.chunk(clock.monotonic() - ts);
      return Effect.void;
    };
    // Writes the chunks of one pull; stays synchronous until a write or commit is async.
    const writeFrom = (
      arr: ReadonlyArray<Chunk<unknown>>,
      from: number,
    ): Effect.Effect<void, SluiceError> => {
      for (let i = from; i < arr.length; i++) {
        const e = writeChunk(arr[i]);
        if (e !== Effect.void) return i + 1 < arr.length ? Effect.flatMap(e, () => writeFrom(arr, i + 1)) : e;
      }
      return Effect.void;
    };
    const effect = Stream.runForEachArray(stream, (arr) => writeFrom(arr, 0));

    const exit = await Effect.runPromiseExit(effect as Effect.Effect<void, SluiceError>);
    if (Exit.isFailure(exit)) {
      const failure = exit.cause.reasons[0];
      const e =
        failure && "error" in failure
          ? failure.error
          : failure && "defect" in failure
            ? failure.defect
            : exit.cause;
      throw toSluiceError(e, "pipeline");
    }
    if (stopRequested.value) {
      // Interrupted: the last barrier committed everything; keep it resumable
      // instead of finishing (a file sink would publish a partial file).
      status = "interrupted";
      await writer.abort?.();
    } else await writer.close();
  } catch (e) {
    error = toSluiceError(e, "pipeline");
    status = "failed";
    await writer?.abort?.().catch(() => {});
  } finally {
    for (const stop of stopTimers) stop();
    for (const s of stages) await Promise.resolve(s.impl.close?.()).catch(() => {});
    await deadLetters.close().catch(() => {});
    flushMetrics();
  }

  const durationMs = clock.monotonic() - t0;
  const t = totals();
  emit({
    kind: "run.ended",
    status,
    rowsIn: t.rowsIn,
    rowsOut: t.rowsOut,
    filtered: t.filtered,
    deadLettered: t.dead,
    durationMs,
    error: error ? `${error._tag}: ${error.message}` : undefined,
  });
  return {
    runId,
    pipeline: p.name,
    status,
    rowsIn: t.rowsIn,
    rowsOut: t.rowsOut,
    filtered: t.filtered,
    deadLettered: t.dead,
    bytes: bytesRead,
    durationMs,
    rowsPerSecond: durationMs > 0 ? (t.rowsIn / durationMs) * 1000 : 0,
    checkpoints,
    output: writer?.target,
    deadLetterFile: deadLetters.count > 0 ? deadLetters.path : undefined,
    runDir,
    stages: [...meters, sinkMeter].map((m) => ({ ...m.totals })),
    error,
  };
}
