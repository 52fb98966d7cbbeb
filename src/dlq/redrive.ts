/**
 * @module `redrive`: re-runs the dead letters of a run through a (fixed)
 * pipeline, as a run of its own. Its source is the run's letters still dead,
 * filtered (`redrive-source.ts`); each enters at the stage that rejected it
 * (`gate.ts`; source-stage letters are parsed again from their raw input);
 * its sink is the pipeline's, opened to append (`SinkContext.append`): file
 * sinks rewrite the target as "what it held + the recovered records" with
 * their exactly-once part-file protocol, DuckDB adds the rows in its
 * checkpoint transactions. It is journaled like any run (the `journal()`
 * plugin, `run.json` marks it `redriveOf`), so kill -9 and `sluice resume`
 * continue it exactly; its plan (`plan.ts`) is written before it starts so a
 * resume rebuilds the same source. When it completes, its outcome is settled
 * into the first run's ledger (`ledger.ts`).
 *
 * One redrive of a run at a time: a new one is refused while an earlier one
 * has not completed (its records may be committed at the sink already).
 */
import { journal, type ResumeInfo } from "../journal/run-journal.ts";
import { findRun, inspectRun, type RunRef } from "../journal/runs.ts";
import { ConfigError, StateError } from "../pipeline/errors.ts";
import { type Pipeline, pipeline, stageNames } from "../pipeline/pipeline.ts";
import type { RunPlugin } from "../pipeline/plugin.ts";
import { newRunId, type RunSummary, runPipeline, stateHome } from "../pipeline/run.ts";
import type { Operator, Sink } from "../pipeline/types.ts";
import { type Clock, systemClock } from "../runtime/clock.ts";
import { fs, paths } from "../runtime/fs.ts";
import { cwd } from "../runtime/process.ts";
import { readJson, writeAtomic } from "./atomic.ts";
import { gated } from "./gate.ts";
import { type Ledger, readLedger, settle, writeLedger } from "./ledger.ts";
import { PLAN_FILE, type RedrivePlan } from "./plan.ts";
import { filterLetters, type LetterFilter, openQueue, resolveRun } from "./queue.ts";
import { type Entry, redriveSource } from "./redrive-source.ts";

export interface RedriveOptions {
  /** The run whose dead letters to redrive: its id (or a unique part) or its pipeline's name (the latest run). */
  readonly run: string;
  /** The fixed pipeline (same name as the run's). */
  readonly pipeline: Pipeline<unknown>;
  /** Its file, recorded so `sluice resume` can load it again. */
  readonly file?: string;
  readonly home?: string;
  /** Which letters: those still dead, narrowed by stage, reason, line, time. */
  readonly filter?: Omit<LetterFilter, "status">;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  /** Called before a resumed redrive starts (the CLI prints "resuming run …"). */
  readonly onResume?: (info: ResumeInfo) => void;
  /** More plugins (the CLI's progress line); the journal is added first. */
  readonly plugins?: readonly RunPlugin[];
}

export interface RedriveResult {
  /** The redrive run's summary; undefined when no letter matched (no run was started). */
  readonly summary?: RunSummary;
  /** The run redriven. */
  readonly of: RunRef;
  /** Letters taken. */
  readonly taken: number;
  /** Once settled (the redrive completed): how many went through and how many are still dead. */
  readonly settled?: { readonly redriven: number; readonly dead: number };
  /** The queue's counts after the redrive: total = redriven + dead. */
  readonly counts?: { readonly total: number; readonly redriven: number; readonly dead: number };
}

/**
 * Redrives a run's dead letters through `pipeline`.
 *
 * @example
 * ```ts
 * const r = await redrive({ run: "orders", pipeline: fixedOrders, filter: { reason: "schema" } });
 * console.log(r.settled); // { redriven: 41, dead: 2 }
 * ```
 */
export async function redrive(options: RedriveOptions): Promise<RedriveResult> {
  const clock = options.clock ?? systemClock;
  const home = stateHome(options.home);
  const of = await resolveRun(home, options.run);
  checkPipeline(options.pipeline, of);
  await requireCompleted(of);
  const queue = await openQueue(of, clock.now());
  if (queue.pending.length) {
    const p = queue.pending[0];
    throw new StateError(`run ${of.runId} has a redrive that did not complete: ${p.runId} (${p.status})`, {
      hint: `Finish it first with \`sluice resume ${p.runId}\` (its records may already be at the sink), then redrive again.`,
    });
  }
  const letters = filterLetters(queue.letters, { ...options.filter, status: "dead" });
  if (letters.length === 0) return { of, taken: 0, counts: queue.counts };
  const runId = newRunId(clock);
  const plan: RedrivePlan = {
    version: 1,
    of: { pipeline: of.pipeline, runId: of.runId },
    file: options.file && paths.resolve(options.file),
    cwd: cwd(),
    createdAt: clock.now(),
    filters: { ...options.filter },
    letters: letters.map((l) => ({ index: l.index, event: l.event })),
  };
  const runDir = paths.join(home, of.pipeline, runId);
  await fs.mkdirp(runDir, 0o700);
  await writeAtomic(paths.join(runDir, PLAN_FILE), `${JSON.stringify(plan)}\n`);
  return runRedrive(options, home, of, runId, plan, false);
}

/**
 * Only a completed run's dead letters are redriven. A run that may still be
 * resumed has letters after its last checkpoint that the resume cuts from
 * its file and letters again (the ledger would then name other letters, and
 * the redriven records would be lost with the resumed run's output).
 */
async function requireCompleted(of: RunRef): Promise<void> {
  const info = await inspectRun(of);
  if (info.status === "completed") return;
  const what = `run ${of.runId} of pipeline "${of.pipeline}"`;
  if (info.status === "unreadable")
    throw new StateError(`${what} cannot be read, so its dead letters cannot be redriven: ${info.error}`, {
      hint: "Only a run whose journal can be read can have its dead letters redriven.",
    });
  throw new StateError(
    `${what} has not completed (${info.status}): its dead letters cannot be redriven yet`,
    {
      hint:
        info.status === "running"
          ? "Wait for it to finish, then redrive."
          : `Resume it to the end first (\`sluice resume ${of.runId}\`): a resume cuts its dead-letter file back to its last checkpoint and letters those rows again, which would undo a redrive of them. Then redrive.`,
    },
  );
}

/**
 * Continues a redrive that crashed or was interrupted (`sluice resume` of a
 * redrive run): the same plan, through `pipeline` (the same fixed pipeline).
 */
export async function resumeRedrive(
  options: Omit<RedriveOptions, "run" | "filter"> & { readonly runId: string },
): Promise<RedriveResult> {
  const home = stateHome(options.home);
  const ref = await findRun(home, options.runId);
  const plan = await readPlan(ref.runDir);
  const of = await findRun(home, plan.of.runId);
  checkPipeline(options.pipeline, of);
  return runRedrive({ ...options, run: of.runId }, home, of, ref.runId, plan, true);
}

/** The plan of the redrive run in `runDir`. */
export async function readPlan(runDir: string): Promise<RedrivePlan> {
  const plan = await readJson<RedrivePlan>(paths.join(runDir, PLAN_FILE));
  if (!plan) {
    throw new StateError(`${runDir} is not a redrive run: it has no ${PLAN_FILE}`, {
      hint: "Resume ordinary runs with `sluice resume RUN`.",
    });
  }
  return plan;
}

async function runRedrive(
  options: RedriveOptions,
  home: string,
  of: RunRef,
  runId: string,
  plan: RedrivePlan,
  resuming: boolean,
): Promise<RedriveResult> {
  const clock = options.clock ?? systemClock;
  const fixed = options.pipeline;
  const names = stageNames(fixed);
  const entries: Entry[] = plan.letters.map((l) => ({
    event: l.event,
    entry: entryStage(l.event.stage, names),
  }));
  const sink = fixed.sink as Sink<unknown>;
  const from = pipeline(fixed.name, fixed.options).from(redriveSource(fixed.source, of.runId, entries));
  // `via` is typed for literal operator lists; these are the fixed pipeline's, each gated.
  const via = from.via as (...ops: Operator<unknown, unknown>[]) => Pipeline<unknown>;
  const p = via(...fixed.operators.map((op, i) => gated(op, i + 1))).to({
    ...sink,
    open: (ctx) => sink.open({ ...ctx, append: true }),
  });
  const ledgerEntry: RunPlugin = {
    name: "redrive-ledger",
    // Listed in the first run's ledger before any record flows, so `sluice dlq` sees it pending.
    async start() {
      const ledger: Ledger = await readLedger(of.runDir, of.runId);
      if (ledger.redrives.some((r) => r.runId === runId)) return;
      ledger.redrives.push({ runId, startedAt: clock.now(), letters: plan.letters.length });
      await writeLedger(of.runDir, ledger);
    },
  };
  const summary = await runPipeline(p, {
    home,
    runId,
    clock,
    signal: options.signal,
    plugins: [
      journal({
        resume: resuming ? runId : false,
        file: plan.file,
        redriveOf: of.runId,
        onResume: options.onResume,
      }),
      ledgerEntry,
      ...(options.plugins ?? []),
    ],
  });
  if (summary.status !== "completed") return { summary, of, taken: plan.letters.length };
  const { ledger } = await settle(of.runDir, of.runId, of.pipeline, clock.now());
  const settled = ledger.redrives.find((r) => r.runId === runId)?.settled;
  const queue = await openQueue(of, clock.now());
  return { summary, of, taken: plan.letters.length, settled, counts: queue.counts };
}

/** Where a letter that failed at `stage` enters the fixed pipeline (stage names `k:op`), or why it cannot. */
export function entryStage(stage: string, names: readonly string[]): number | string {
  if (stage === "source") return 0;
  const exact = names.indexOf(stage);
  if (exact >= 0) return exact + 1;
  const op = stage.replace(/^\d+:/, "");
  const same = names.flatMap((n, i) => (n.replace(/^\d+:/, "") === op ? [i + 1] : []));
  if (same.length === 1) return same[0];
  return same.length === 0
    ? `the fixed pipeline has no stage ${stage} (its stages: ${names.join(", ") || "none"})`
    : `stage ${stage} is ambiguous in the fixed pipeline (${same.map((i) => names[i - 1]).join(", ")})`;
}

function checkPipeline(p: Pipeline<unknown>, of: RunRef): void {
  if (p.name !== of.pipeline) {
    throw new ConfigError(`run ${of.runId} is of pipeline "${of.pipeline}", not "${p.name}"`, {
      hint: "Redrive with the fixed version of the run's own pipeline (same name).",
    });
  }
  const sink = p.sink;
  if (!sink) throw new ConfigError(`pipeline "${p.name}" has no sink`);
  if (sink.delivery === "exactly-once" && !sink.appends) {
    throw new ConfigError(
      `the sink ${sink.name} cannot append, so a redrive would replace the first run's output`,
      {
        hint: "Redrive into a sink that appends (ndjson, csv, duckdb), or write the fixed pipeline's output elsewhere.",
      },
    );
  }
}
