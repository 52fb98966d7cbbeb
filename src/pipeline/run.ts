/**
 * @module The runner: the one code path behind every way of starting a run
 * (DESIGN §2). It opens the source, stages and sink with the run's context,
 * composes them into one Effect stream of chunks with checkpoint barriers
 * (`internal/barriers.ts`), drives the sink (`internal/sink-driver.ts`),
 * records a `checkpoint` event at each barrier after the sink committed, and
 * publishes metrics per interval (`internal/run-timers.ts`). Everything that
 * watches or records the run — journal, alerts, tuning, summaries, live
 * HTTP, the progress line — is a plugin (`plugin.ts`). Resume restores the
 * source offset, operator snapshots, sink token and counters from the
 * checkpoint a plugin (the journal) or the caller gives (`internal/resume.ts`).
 */
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Stream from "effect/Stream";
import { EventBus } from "../events/bus.ts";
import type { EventInput, SluiceEvent } from "../events/schema.ts";
import { systemClock } from "../runtime/clock.ts";
import { runtimeName, runtimeVersion } from "../runtime/detect.ts";
import { fs, paths } from "../runtime/fs.ts";
import { host } from "../runtime/process.ts";
import type { Barrier, Chunk } from "./chunk.ts";
import { ConfigError, describeError, SinkError, type SluiceError } from "./errors.ts";
import { BarrierState, withBarriers } from "./internal/barriers.ts";
import { checkpointEvent, recordCheckpoint, StageCuts } from "./internal/checkpoint.ts";
import { DeadLetterFile } from "./internal/dead-letter.ts";
import { StageMeter } from "./internal/meter.ts";
import { closePlugins, preparePlugins } from "./internal/plugins.ts";
import { rechunk, rowsSizer } from "./internal/rechunk.ts";
import { restoreDeadLetters, restoreMeters, restoreOperator } from "./internal/resume.ts";
import { definitionHash, newRunId, stateHome } from "./internal/run-id.ts";
import { RunMeters } from "./internal/run-meters.ts";
import { checkpointTimer, progressTimer, resourceTimer } from "./internal/run-timers.ts";
import { SideOutputs } from "./internal/side-outputs.ts";
import { drainInto } from "./internal/sink-driver.ts";
import { stageContext } from "./internal/stage-context.ts";
import { composeStages, type LiveStage, toSluiceError } from "./internal/stages.ts";
import { makeRunDir } from "./internal/state-dir.ts";
import { collectSourceNotes, collectWarnings } from "./internal/warnings.ts";
import { type Pipeline, stageNames } from "./pipeline.ts";
import type { OfferedKnob, RunPlugin } from "./plugin.ts";
import type { RunOptions, RunSummary } from "./run-types.ts";
import type { CommitToken, Committed, RunContext, SinkContext, SinkWriter, StageContext } from "./types.ts";
import { toMillis } from "./units.ts";

export { definitionHash, newRunId, stateHome } from "./internal/run-id.ts";
export type { SideOutputSummary } from "./internal/side-outputs.ts";
export type { ResumePoint, RunPlugin } from "./plugin.ts";
export type { RunOptions, RunSummary } from "./run-types.ts";

/**
 * Runs a pipeline to completion and returns its summary. Failures of the run
 * (not of single records, which go to the dead letter) are returned in
 * `summary.error` with status `failed`; they are never thrown. A plugin that
 * refuses to start the run (the journal: the run is locked) throws.
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
  const sink = p.sink;
  const clock = options.clock ?? systemClock;
  const bus = options.bus ?? new EventBus();
  const warnings = collectWarnings(bus);
  const sourceNotes = collectSourceNotes(bus);
  const home = stateHome(options.home);
  const plugins: RunPlugin[] = [...(options.plugins ?? [])];
  if (options.onCheckpoint) plugins.push({ name: "onCheckpoint", checkpoint: options.onCheckpoint });
  const cpOption = p.options.checkpoint;
  const cpEveryMs =
    cpOption === false ? Number.POSITIVE_INFINITY : toMillis(cpOption?.every ?? "1s", "checkpoint.every");
  const cpRows = cpOption === false ? Number.POSITIVE_INFINITY : (cpOption?.rows ?? Number.POSITIVE_INFINITY);
  const metricsEveryMs = toMillis(p.options.metricsInterval ?? "1s", "metricsInterval");
  const prepared = await preparePlugins(plugins, p, home, clock, bus, options.runId);
  const resume = prepared.resume ?? options.resume;
  const runId = resume?.runId ?? prepared.runId ?? options.runId ?? newRunId(clock);
  const runDir = paths.join(home, p.name, runId);

  const controller = new AbortController();
  // Aborted when a stop is requested: stages with in-flight work (parallelMap) start their drain deadline.
  const stopping = new AbortController();
  const stopSignals = [options.signal, ...prepared.signals].filter((s): s is AbortSignal => s !== undefined);
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
    stopping: stopping.signal,
    emit,
  };
  const onError = p.options.onError ?? "dead-letter";
  const deadLetters = new DeadLetterFile(paths.join(runDir, "dead-letter.ndjson"));
  const knobs: OfferedKnob[] = [];
  const sides = new SideOutputs();
  const cuts = new StageCuts();
  // The source's `onCommitted` callbacks: told each checkpoint once it is durable.
  const committed: Array<(c: Committed) => void | Promise<void>> = [];

  const t0 = clock.monotonic();
  const names = stageNames(p);
  const run = new RunMeters(names.length, t0);
  const { source: sourceMeter, sink: sinkMeter, meters } = run;

  const ctxDeps = { run: runCtx, onError, bus, deadLetters, knobs, sides };
  const stageCtx = (stage: string, index: number, meter: StageMeter): StageContext =>
    stageContext(ctxDeps, stage, index, meter);

  // A checkpoint taken at the final barrier (`$final`) means the input was
  // fully read and every stage's end() output is in the sink: a run resumed
  // from it reads nothing and must not call end() again.
  const cp = resume?.checkpoint;
  const ended = cp?.operatorState.$final === true;
  // The source's dead letters are cut as each barrier leaves it (it reads on meanwhile),
  // without those of a pull a stop dropped; stream stages' letters are due by chunk.
  deadLetters.align("source");
  let pulledFrom = 0;
  const barriers = new BarrierState(
    clock,
    sourceMeter,
    cpRows,
    cp && { id: cp.id, offset: cp.sourceOffset as never },
    {
      onPull: () => {
        pulledFrom = deadLetters.mark("source");
      },
      onBarrier: (id, lastSeq, dropsPulled) => {
        deadLetters.cut("source", id, dropsPulled ? pulledFrom : undefined);
        deadLetters.barrierAfter(id, lastSeq);
      },
    },
  );
  const onStop = () => {
    barriers.stopRequested = true;
    stopping.abort();
  };
  for (const s of stopSignals) {
    s.addEventListener("abort", onStop);
    if (s.aborted) onStop();
  }

  const stages: LiveStage[] = [];
  let writer: SinkWriter<unknown> | undefined;
  let checkpoints = 0;
  let bytesRead = 0;
  let totalBytes: number | undefined;
  // A signal shared by many runs must not collect a listener per run.
  const stopTimers: Array<() => void> = [
    () => {
      for (const s of stopSignals) s.removeEventListener("abort", onStop);
    },
  ];
  let error: SluiceError | undefined;
  let status: RunSummary["status"] = "completed";

  const totals = () => run.totals();
  const flushMetrics = () => run.flush(clock.monotonic(), emit);

  const commit = async (b: Barrier): Promise<void> => {
    let token: CommitToken;
    try {
      token = await (writer as SinkWriter<unknown>).commit(b.id);
    } catch (e) {
      throw new SinkError(`sink ${sink.name} could not commit checkpoint ${b.id}: ${describeError(e)}`, {
        cause: e,
      });
    }
    const sideState = await sides.commit(b.id);
    await deadLetters.flush(true, b.id);
    flushMetrics();
    const at = { ts: clock.now(), runId, pipeline: p.name };
    await recordCheckpoint(
      bus,
      plugins,
      checkpointEvent(
        b,
        at,
        token,
        run,
        barriers.sourceAt(b.id),
        deadLetters,
        b.final || ended,
        sideState,
        cuts,
        (stage) => sides.lettered(stage),
      ),
    );
    checkpoints++;
    for (const cb of committed) await cb({ checkpointId: b.id, offset: b.offset });
  };

  try {
    await makeRunDir(runDir, home);
    if (cp) await restoreDeadLetters(deadLetters, cp);
    // Open everything before reading a record, so configuration errors come first.
    await p.source.check?.(runCtx);
    totalBytes = await p.source.size?.(runCtx);
    for (let i = 0; i < p.operators.length; i++) {
      const op = p.operators[i];
      const meter = new StageMeter(names[i], i + 1, t0);
      const impl = op.make(stageCtx(names[i], i + 1, meter));
      const name = names[i];
      // As a barrier passes the stage, its dead letters and side outputs so far belong to that checkpoint.
      deadLetters.align(name, impl.type === "stream");
      const side = sides.has(name);
      const onBarrier = (b: Barrier) => {
        deadLetters.cut(name, b.id);
        if (side) sides.cut(name, b.id);
        cuts.leave(name, b.id, meter.totals, side ? sides.lettered(name) : 0);
      };
      const onBarrierEnter = (b: Barrier) => cuts.enter(name, b.id, meter.totals.rowsIn);
      stages.push({ name, op, impl, meter, onBarrier, onBarrierEnter });
      meters.push(meter);
      await impl.start?.();
      if (cp) await restoreOperator(impl, cp, names[i]);
    }
    if (cp) restoreMeters(cp, meters, sourceMeter, sinkMeter);
    const sinkCtx: SinkContext = {
      ...stageCtx("sink", names.length + 1, sinkMeter),
      resumeToken: cp?.sinkToken,
    };
    writer = await sink.open(sinkCtx);
    await sides.open(cp);
    if (prepared.rechunkSource) {
      knobs.push({
        stage: "source",
        knob: {
          setting: "chunk.rows",
          min: 1,
          max: Number.MAX_SAFE_INTEGER,
          get: () => barriers.sourceRows || 1000,
          set: (n) => {
            barriers.sourceRows = n;
          },
        },
      });
    }
    for (const plugin of plugins)
      await plugin.start?.({
        runId,
        pipeline: p,
        home,
        runDir,
        bus,
        clock,
        resumedFrom: cp?.id,
        knobs,
        emit,
      });

    emit({
      kind: "run.started",
      stages: names,
      source: p.source.name,
      sink: sink.name,
      runtime: runtimeName,
      runtimeVersion,
      host: host(),
      sourceBytes: totalBytes,
      resumedFrom: cp?.id,
      definitionHash: definitionHash(p),
      ...(p.options.alerts ? { alerts: { ...p.options.alerts } } : {}),
    });

    stopTimers.push(
      progressTimer(clock, emit, () => {
        const t = totals();
        return {
          rowsIn: t.rowsIn,
          rowsOut: t.rowsOut,
          filtered: t.filtered,
          deadLettered: t.dead,
          bytes: bytesRead,
          totalBytes,
          elapsedMs: clock.monotonic() - t0,
        };
      }),
      clock.every(metricsEveryMs, flushMetrics),
      checkpointTimer(clock, barriers, cpEveryMs),
    );
    if (options.sampleResources !== false) stopTimers.push(resourceTimer(clock, emit));

    const opened: Stream.Stream<Chunk<unknown>, SluiceError> = ended
      ? Stream.empty
      : p.source.open({
          ...stageCtx("source", 0, sourceMeter),
          resumeFrom: barriers.lastOffset,
          reportRead: (b) => {
            bytesRead = b;
          },
          onCommitted: (cb) => {
            committed.push(cb);
          },
        });
    const source = withBarriers(opened, barriers, ended);
    // Tuned runs re-cut the source's chunks after barrier insertion, so
    // barriers stay at source-chunk edges (their offsets exact) and flush a
    // partial chunk before they pass.
    const cut = prepared.rechunkSource
      ? rechunk(
          source,
          rowsSizer(() => barriers.sourceRows),
        )
      : source;
    const effect = drainInto(composeStages(cut, stages, clock), {
      writer,
      sinkName: sink.name,
      meter: sinkMeter,
      clock,
      commit,
    });
    const exit = await Effect.runPromiseExit(effect);
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
    if (barriers.stopRequested) {
      // Interrupted: the last barrier committed everything; keep it resumable
      // instead of finishing (a file sink would publish a partial file).
      status = "interrupted";
      await writer.abort?.();
      await sides.abort();
    } else {
      await writer.close();
      await sides.close();
    }
  } catch (e) {
    error = toSluiceError(e, "pipeline");
    // A stop whose drain ran out of time (parallelMap's drainTimeout) stays resumable, like any stop.
    status = barriers.stopRequested && error._tag === "CancelledError" ? "interrupted" : "failed";
    await writer?.abort?.().catch(() => {});
    await sides.abort();
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
    ...(t.side ? { sideOutput: t.side } : {}),
    durationMs,
    error: error ? `${error._tag}: ${error.message}` : undefined,
  });
  const summary: RunSummary = {
    runId,
    pipeline: p.name,
    status,
    rowsIn: t.rowsIn,
    rowsOut: t.rowsOut,
    filtered: t.filtered,
    deadLettered: t.dead,
    sideOutput: t.side,
    bytes: bytesRead,
    durationMs,
    rowsPerSecond: durationMs > 0 ? (t.rowsIn / durationMs) * 1000 : 0,
    checkpoints,
    output: writer?.target,
    deadLetterFile: deadLetters.count > 0 ? deadLetters.path : undefined,
    sideOutputs: sides.size > 0 ? sides.summary() : undefined,
    deadLetterLines: deadLetters.lines,
    warnings: warnings.done(),
    sourceNotes: sourceNotes.done(),
    runDir,
    stages: run.all(),
    error,
  };
  const closed = await closePlugins(plugins, summary);
  // Operator state (`<run>/state/`) only serves a resume; a completed run (its end journaled
  // by the plugins just closed) has none left to do.
  if (closed.status === "completed") await fs.remove(paths.join(runDir, "state")).catch(() => {});
  return closed;
}
