/**
 * @module A run with a journal (DESIGN §3): the journal plugin behind
 * `sluice run` and `runJournaled()`. It picks the run (a new one, or the
 * latest unfinished run of the pipeline, or a named one), takes the run's
 * lock, checks that a resumed run's pipeline definition is unchanged, hands
 * the runner the last checkpoint to resume from, appends every durable event
 * to `<home>/<pipeline>/<runId>/journal/`, and makes each checkpoint durable
 * (append + fsync) before the runner goes on — so a checkpoint the bus, the
 * metrics store or a later resume ever sees is on disk. A journal write or
 * fsync failure stops the run with a `StateError` at that checkpoint.
 */
import { durable, type EventOf } from "../events/schema.ts";
import { describeError, isSluiceError, StateError } from "../pipeline/errors.ts";
import { makeRunDir, requireRunDir } from "../pipeline/internal/state-dir.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { RunPlugin } from "../pipeline/plugin.ts";
import { definitionHash, newRunId, type RunOptions, type RunSummary, runPipeline } from "../pipeline/run.ts";
import type { Duration, Size } from "../pipeline/units.ts";
import type { Clock } from "../runtime/clock.ts";
import type { DurableFs } from "../runtime/durable-fs.ts";
import { crashPoint, faultArmed } from "../runtime/fault.ts";
import { fs, paths } from "../runtime/fs.ts";
import { type HeldLock, tryLock } from "../runtime/lock.ts";
import { cwd } from "../runtime/process.ts";
import { JournalWriteError } from "./errors.ts";
import { crashingFs } from "./internal/crash-fs.ts";
import { toJournalValue } from "./internal/plain.ts";
import { chooseRun, type ResumeInfo, resumePoint } from "./internal/resume-point.ts";
import { type FsyncPolicy, type Journal, openJournal } from "./journal.ts";
import { JOURNAL_DIR, LOCK_FILE, RUN_META_FILE, type RunMeta } from "./runs.ts";

export type { ResumeInfo } from "./internal/resume-point.ts";

export interface RunJournalOptions {
  /** `checkpoint` (default): fsync at each checkpoint; `interval`: also every `fsyncInterval`; `always`: every event. */
  readonly fsync?: FsyncPolicy;
  readonly fsyncInterval?: Duration;
  /** Journal segment size (default "64MiB"). */
  readonly segmentSize?: Size;
  /** File primitives (tests inject ENOSPC/EIO here). */
  readonly fs?: DurableFs;
}

export interface JournaledRunOptions extends Omit<RunOptions, "resume"> {
  /**
   * `true` (default): continue the latest run of this pipeline if it crashed
   * or was interrupted, else start a new one. `false`: always a new run. A
   * run id: continue that run (it must not have completed).
   */
  readonly resume?: boolean | string;
  /** Journal settings; they override the pipeline's `journal` option. */
  readonly journal?: RunJournalOptions;
  /** The pipeline file, recorded in `run.json` so `sluice resume RUN` can load it again. */
  readonly file?: string;
  /** Marks the run as a redrive of this run (`run.json`'s `redriveOf`): `sluice run` never resumes it. */
  readonly redriveOf?: string;
  /** Called before a resumed run starts (the CLI prints "resuming run …" here). */
  readonly onResume?: (info: ResumeInfo) => void;
}

/**
 * Runs a pipeline with a journal: resumable after a crash, kill -9 or
 * Ctrl-C, exactly-once at transactional sinks. Like `runPipeline`, run
 * failures are in `summary.error`; refusing to start (the run is locked by
 * another process, its definition changed) throws a `StateError`.
 *
 * @example
 * ```ts
 * const summary = await runJournaled(myPipeline);          // resumes the last unfinished run
 * const fresh = await runJournaled(myPipeline, { resume: false });
 * ```
 */
export async function runJournaled(
  p: Pipeline<unknown>,
  options: JournaledRunOptions = {},
): Promise<RunSummary> {
  const { resume: _r, journal: _j, file: _f, onResume: _o, redriveOf: _d, plugins = [], ...rest } = options;
  // The journal goes first: a checkpoint is durable before any other plugin sees it.
  return runPipeline(p, { ...rest, plugins: [journal(options), ...plugins] });
}

/**
 * The journal as a run plugin (DESIGN §3): it picks and locks the run (a new
 * one, the latest unfinished run of the pipeline, or a named one), checks a
 * resumed run's definition is unchanged and hands the runner the last
 * checkpoint, appends every durable event to
 * `<home>/<pipeline>/<runId>/journal/`, and makes each checkpoint durable
 * (append + fsync) before the runner goes on. A journal write or fsync
 * failure stops the run with a `StateError` at that checkpoint.
 */
export function journal(options: Omit<JournaledRunOptions, "plugins"> = {}): RunPlugin {
  let opened: Journal | undefined;
  let lock: HeldLock | undefined;
  let runId = "";
  let runDir = "";
  let failure: unknown;
  let lastDurable: number | undefined;
  let sub: { unsubscribe(): void } | undefined;
  /** A new run in a directory it made: the directory is this plugin's to remove if it never starts. */
  let fresh = false;
  let closed = false;
  const release = async () => {
    if (closed) return;
    closed = true;
    sub?.unsubscribe();
    try {
      await opened?.close();
    } finally {
      await lock?.release();
    }
  };
  return {
    name: "journal",
    async prepare(ctx) {
      const p = ctx.pipeline;
      const hash = definitionHash(p);
      await makeRunDir(ctx.home, ctx.home);
      const target = await chooseRun(ctx.home, p, options);
      runId = target?.runId ?? ctx.runId ?? newRunId(ctx.clock);
      runDir = paths.join(ctx.home, p.name, runId);
      // Only a directory this run makes is its to remove (a run given an existing run's id is not).
      // (A pipeline path through a file fails here: `makeRunDir` says so with its hint.)
      fresh = !target && !(await fs.stat(runDir).catch(() => undefined));
      await makeRunDir(runDir, ctx.home);
      const locked = await tryLock(paths.join(runDir, LOCK_FILE), ctx.clock.now());
      if (!locked.ok) {
        const h = locked.holder;
        throw new StateError(
          `run ${runId} of pipeline "${p.name}" is being written by process ${h.pid} on ${h.host}`,
          {
            hint: `Wait for it to finish or stop it; if that process is gone, delete ${paths.join(runDir, LOCK_FILE)}. Use --fresh to start a separate run.`,
          },
        );
      }
      lock = locked.lock;
      let resumed: ResumeInfo | undefined;
      try {
        if (!target) {
          const meta: RunMeta = {
            runId,
            pipeline: p.name,
            file: options.file,
            cwd: cwd(),
            createdAt: ctx.clock.now(),
            definitionHash: hash,
            ...(options.redriveOf ? { redriveOf: options.redriveOf } : {}),
          };
          await fs.writeText(paths.join(runDir, RUN_META_FILE), `${JSON.stringify(meta, null, 2)}\n`, 0o600);
        }
        opened = await openRunJournal(p, options, runDir, runId, ctx.clock);
        resumed = target ? await resumePoint(opened, target, p, hash) : undefined;
        if (resumed) options.onResume?.(resumed);
      } catch (e) {
        await release().catch(() => {});
        throw e;
      }
      lastDurable = resumed?.checkpoint?.id;
      // Resuming without a checkpoint (a crash before the first one) starts the
      // run over under its own id: an empty resume point truncates the dead
      // letter file and the sink starts from nothing.
      const point = resumed?.checkpoint ?? (resumed ? emptyCheckpoint(p, runId) : undefined);
      return { runId, resume: point && { runId, checkpoint: point } };
    },
    start(run) {
      const j = opened as Journal;
      sub = run.bus.subscribe((e) => {
        if (failure !== undefined || !durable[e.kind] || e.kind === "checkpoint") return;
        if (e.kind === "run.ended") crashPoint("before-run-ended");
        try {
          j.append(toJournalValue(e));
        } catch (err) {
          if (!(err instanceof Error && "_tag" in err && err._tag === "JournalEncodeError")) failure = err;
        }
      });
    },
    async checkpoint(cp) {
      const j = opened as Journal;
      crashPoint("after-sink-commit");
      if (failure !== undefined) throw asStateError(failure, runId, lastDurable, cp.id);
      try {
        j.append(toJournalValue(cp));
        await j.sync();
        // A run directory deleted mid-run still takes writes to its open segment: check it is there.
        await requireRunDir(paths.join(runDir, JOURNAL_DIR), runId);
      } catch (e) {
        failure ??= e;
        throw asStateError(e, runId, lastDurable, cp.id);
      }
      lastDurable = cp.id;
      crashPoint("after-checkpoint");
      if (cp.operatorState.$final === true) crashPoint("before-sink-close");
    },
    async close(summary) {
      try {
        await release();
      } catch (e) {
        if (!summary.error)
          return { ...summary, status: "failed", error: asStateError(e, runId, summary.checkpoints) };
      }
      // A new run that failed before it started (its input missing, its sink not writable)
      // journaled nothing: it leaves no run behind to list or resume, and the next run starts afresh.
      if (fresh && sub === undefined && summary.status === "failed") await fs.remove(runDir).catch(() => {});
      return summary;
    },
  };
}

async function openRunJournal(
  p: Pipeline<unknown>,
  options: Omit<JournaledRunOptions, "plugins">,
  runDir: string,
  runId: string,
  clock: Clock,
): Promise<Journal> {
  const settings = { ...p.options.journal, ...options.journal };
  const journalFs = faultArmed("segment-rotation") ? crashingFs(settings.fs) : settings.fs;
  try {
    return await openJournal(paths.join(runDir, JOURNAL_DIR), {
      fsync: settings.fsync,
      fsyncInterval: settings.fsyncInterval,
      segmentSize: settings.segmentSize,
      fs: journalFs,
      clock,
    });
  } catch (e) {
    throw new StateError(`cannot open the journal of run ${runId}: ${describeError(e)}`, {
      cause: e,
      hint:
        e instanceof Error && "_tag" in e && e._tag === "JournalVersionError"
          ? "Upgrade sluice to resume or read this run, or start a new run with --fresh."
          : "Check the state directory (--home / SLUICE_HOME) is writable, or start a new run with --fresh.",
    });
  }
}

function emptyCheckpoint(p: Pipeline<unknown>, runId: string): EventOf<"checkpoint"> {
  return {
    kind: "checkpoint",
    ts: 0,
    runId,
    pipeline: p.name,
    id: 0,
    sourceOffset: undefined,
    rowsIn: 0,
    operatorState: { $deadLetter: { bytes: 0, count: 0 } },
    sinkToken: undefined,
    stageTotals: [],
    rowsOut: 0,
    filtered: 0,
    deadLettered: 0,
  };
}

function asStateError(
  e: unknown,
  runId: string,
  lastDurable: number | undefined,
  failedAt?: number,
): StateError {
  if (isSluiceError(e) && e._tag === "StateError") return e;
  const what =
    e instanceof JournalWriteError
      ? `journal ${e.operation} failed for ${e.file} at byte ${e.offset}: ${describeError(e.cause)}`
      : `the journal could not be written: ${describeError(e)}`;
  const stop = failedAt === undefined ? "" : `; the run stopped before checkpoint ${failedAt} was recorded`;
  const from = lastDurable === undefined ? "from the start" : `from checkpoint ${lastDurable}`;
  return new StateError(`run ${runId}: ${what}${stop}`, {
    cause: e,
    hint: `Free disk space or fix the device, then run the same command again (or \`sluice resume ${runId}\`): it continues ${from}, the last one on disk.`,
  });
}
