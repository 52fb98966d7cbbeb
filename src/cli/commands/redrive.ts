/**
 * @module `sluice redrive RUN [--pipeline FILE]`: re-runs the dead letters
 * still dead in a run through the (fixed) pipeline, as a journaled run of its
 * own (see `dlq/redrive.ts`), and prints what went through and what is still
 * dead. Without `--pipeline` the run's own pipeline file is loaded again,
 * from the directory it ran in. `sluice resume` of a redrive run lands in
 * `resumeRedriveCommand`.
 */

import { resolveRun } from "../../dlq/queue.ts";
import { type RedriveResult, readPlan, redrive, resumeRedrive } from "../../dlq/redrive.ts";
import { type RunRef, readRunMeta } from "../../journal/runs.ts";
import { StateError } from "../../pipeline/errors.ts";
import type { RunPlugin } from "../../pipeline/plugin.ts";
import { stateHome } from "../../pipeline/run.ts";
import { systemClock } from "../../runtime/clock.ts";
import { paths } from "../../runtime/fs.ts";
import { chdir, cwd, onSignal, stderr, stdout } from "../../runtime/process.ts";
import { EXIT, formatError } from "../errors.ts";
import { int } from "../format.ts";
import { loadPipeline } from "../load.ts";
import { progressPlugin } from "../progress.ts";
import { type DlqFlags, filterOf } from "./dlq.ts";
import { renderSummary, resumeNotice } from "./run.ts";

export interface RedriveFlags
  extends Pick<DlqFlags, "stage" | "reason" | "line" | "index" | "since" | "until"> {
  readonly home?: string;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly json: boolean;
  /** The fixed pipeline file; default: the run's own. */
  readonly pipeline?: string;
}

export async function redriveCommand(id: string, flags: RedriveFlags): Promise<number> {
  const home = stateHome(flags.home);
  const ref = await resolveRun(home, id);
  let file = flags.pipeline && paths.resolve(flags.pipeline);
  if (!file) {
    const meta = await readRunMeta(ref.runDir);
    if (!meta?.file)
      throw new StateError(`run ${ref.runId} was not started from a pipeline file`, {
        hint: "Name the fixed pipeline: sluice redrive RUN --pipeline FILE.",
      });
    file = meta.file;
    enter(meta.cwd, ref);
  }
  const pipeline = await loadPipeline(file);
  const { status: _s, ...filter } = filterOf({ ...flags, json: false }, systemClock.now());
  return withSignals((signal) =>
    redrive({ run: ref.runId, pipeline, file, home, filter, signal, plugins: plugins(flags) }),
  ).then((r) => report(r, flags));
}

/** `sluice resume` of a redrive run: the same plan, the same pipeline file, from its directory. */
export async function resumeRedriveCommand(
  ref: RunRef,
  flags: Omit<RedriveFlags, "json" | "pipeline">,
): Promise<number> {
  const plan = await readPlan(ref.runDir);
  if (!plan.file)
    throw new StateError(`redrive ${ref.runId} was not started from a pipeline file`, {
      hint: "Resume it from your program: resumeRedrive({ runId, pipeline }).",
    });
  enter(plan.cwd, ref);
  const pipeline = await loadPipeline(plan.file);
  const home = stateHome(flags.home);
  return withSignals((signal) =>
    resumeRedrive({
      runId: ref.runId,
      pipeline,
      file: plan.file,
      home,
      signal,
      plugins: plugins(flags),
      onResume: (info) => {
        if (!flags.quiet) stderr.write(`${resumeNotice(info)}\n`);
      },
    }),
  ).then((r) => report(r, { ...flags, json: false }));
}

function plugins(flags: { quiet: boolean }): RunPlugin[] {
  return flags.quiet ? [] : [progressPlugin(stderr)];
}

function enter(dir: string | undefined, ref: RunRef): void {
  if (!dir || paths.resolve(dir) === paths.resolve(cwd())) return;
  try {
    chdir(dir);
  } catch {
    throw new StateError(`run ${ref.runId} ran in ${dir}, which cannot be entered`, {
      hint: "Restore that directory, or name the pipeline file and run from where its paths resolve: --pipeline FILE.",
    });
  }
}

async function withSignals(go: (signal: AbortSignal) => Promise<RedriveResult>): Promise<RedriveResult> {
  const controller = new AbortController();
  const off = [onSignal("SIGINT", () => controller.abort()), onSignal("SIGTERM", () => controller.abort())];
  try {
    return await go(controller.signal);
  } finally {
    for (const f of off) f();
  }
}

function report(r: RedriveResult, flags: { quiet: boolean; verbose: boolean; json: boolean }): number {
  const s = r.summary;
  if (flags.json) {
    stdout.write(
      `${JSON.stringify({ run: s?.runId, of: r.of.runId, status: s?.status ?? "nothing", taken: r.taken, settled: r.settled, counts: r.counts })}\n`,
    );
  }
  if (!s) {
    if (!flags.json && !flags.quiet)
      stdout.write(`no dead letters to redrive in run ${r.of.runId} (see sluice dlq ${r.of.runId})\n`);
    return EXIT.ok;
  }
  if (s.error) stderr.write(`${formatError(s.error, flags.verbose)}\n`);
  if (!flags.json && !flags.quiet) {
    const lines = [renderSummary(s)];
    lines.push(`  redrive of run ${r.of.runId}: ${int(r.taken)} letters taken`);
    if (r.settled)
      lines.push(`  ${int(r.settled.redriven)} went through · ${int(r.settled.dead)} still dead`);
    if (r.counts)
      lines.push(
        `  queue of ${r.of.runId}: ${int(r.counts.total)} dead letters = ${int(r.counts.redriven)} redriven + ${int(r.counts.dead)} still dead   (sluice dlq ${r.of.runId})`,
      );
    stdout.write(`${lines.join("\n")}\n`);
  }
  if (s.error) return EXIT.failed;
  return s.status === "interrupted" ? EXIT.interrupted : EXIT.ok;
}
