/**
 * @module `sluice run FILE`: loads a pipeline file, runs it with a live
 * progress line and a journal, prints the summary. If the pipeline's latest
 * run crashed or was interrupted it is resumed from its last checkpoint
 * (`--fresh` starts a new run instead). Ctrl-C stops reading, takes a last
 * checkpoint and exits 130; a second Ctrl-C exits at once (the run resumes
 * from its last durable checkpoint).
 */
import { EventBus } from "../../events/bus.ts";
import type { ResumeInfo } from "../../journal/run-journal.ts";
import { runJournaled } from "../../journal/run-journal.ts";
import type { Pipeline } from "../../pipeline/pipeline.ts";
import type { RunOptions, RunSummary } from "../../pipeline/run.ts";
import { paths } from "../../runtime/fs.ts";
import { exit, onSignal, stderr, stdout } from "../../runtime/process.ts";
import { EXIT, formatError } from "../errors.ts";
import { bytes, compact, duration, int } from "../format.ts";
import { loadPipeline } from "../load.ts";
import { progressLine } from "../progress.ts";
import { deadLetterLinesNote, warningLines } from "../summary-notes.ts";
import { startRunStore } from "./metrics-store.ts";

export interface RunFlags {
  quiet: boolean;
  verbose: boolean;
  home?: string;
  /** Start a new run even if the latest one is resumable. */
  fresh?: boolean;
  /** Continue this run (`sluice resume RUN`). */
  resume?: string;
  /** Journal fsync policy (overrides the pipeline's `journal.fsync`). */
  fsync?: "always" | "checkpoint" | "interval";
  /** Adaptive configuration: tune chunk size and workers during the run. */
  adaptive?: boolean;
}

export type RunHook = (p: Pipeline<unknown>, bus: EventBus, options: RunOptions) => Promise<RunOptions>;

/** Runs a pipeline file with its journal; returns the exit code. `prepare` lets other layers (metrics, HTTP) attach. */
export async function runCommand(file: string, flags: RunFlags, prepare?: RunHook): Promise<number> {
  const p = await loadPipeline(file);
  const bus = new EventBus();
  const controller = new AbortController();
  let interrupts = 0;
  const off = [
    onSignal("SIGINT", () => {
      interrupts++;
      if (interrupts === 1) {
        stderr.write(
          "\nsluice: stopping — finishing in-flight chunks and taking a checkpoint (Ctrl-C again to quit now)\n",
        );
        controller.abort();
      } else exit(EXIT.interrupted);
    }),
    onSignal("SIGTERM", () => controller.abort()),
  ];
  const progress = flags.quiet ? undefined : progressLine(bus, stderr, p.name);
  let options: RunOptions = {
    bus,
    signal: controller.signal,
    home: flags.home,
    ...(flags.adaptive ? { adaptive: true } : {}),
  };
  if (prepare) options = await prepare(p, bus, options);
  // A prepare hook (--serve) opens and attaches the metrics store itself.
  const store = prepare ? undefined : startRunStore(p.name, bus, flags.home, flags.quiet);
  let summary: RunSummary;
  try {
    const { resume: _hookResume, ...rest } = options;
    summary = await runJournaled(p, {
      ...rest,
      resume: flags.resume ?? !flags.fresh,
      journal: flags.fsync ? { fsync: flags.fsync } : undefined,
      file: paths.resolve(file),
      onResume: (info) => {
        store?.onResume(info);
        if (!flags.quiet) stderr.write(`${resumeNotice(info)}\n`);
      },
    });
  } finally {
    progress?.stop();
    for (const f of off) f();
    await store?.close().catch((e) => stderr.write(`sluice: warning: metrics store: ${String(e)}\n`));
  }
  if (summary.error) {
    stderr.write(`${formatError(summary.error, flags.verbose)}\n`);
    if (!flags.quiet) stderr.write(`${renderSummary(summary)}\n`);
    return EXIT.failed;
  }
  if (!flags.quiet) stdout.write(`${renderSummary(summary)}\n`);
  return summary.status === "interrupted" ? EXIT.interrupted : EXIT.ok;
}

export function renderSummary(s: RunSummary): string {
  const mark = s.status === "completed" ? "✔" : s.status === "interrupted" ? "◼" : "✘";
  const lines = [
    `${mark} ${s.pipeline} ${s.status} in ${duration(s.durationMs)} (run ${s.runId})`,
    `  rows in ${int(s.rowsIn)} · out ${int(s.rowsOut)} · filtered ${int(s.filtered)} · dead-lettered ${int(s.deadLettered)}${deadLetterLinesNote(s)}`,
    `  ${compact(s.rowsPerSecond)} rows/s${s.bytes ? ` · ${bytes(s.bytes)} read` : ""} · ${s.checkpoints} checkpoints`,
  ];
  if (s.output) lines.push(`  output: ${s.output}`);
  if (s.deadLetterFile) lines.push(`  dead letters: ${s.deadLetterFile}`);
  lines.push(...warningLines(s));
  if (s.status === "failed" && s.checkpoints > 0)
    lines.push(`  after fixing the cause, continue with: sluice resume ${s.runId}  (sluice run starts over)`);
  if (s.status === "interrupted")
    lines.push(`  resume with: sluice run <same file>  or  sluice resume ${s.runId}  (--fresh starts over)`);
  return lines.join("\n");
}

/** "resuming run X from checkpoint N (source offset byte …, line …; R rows in)". */
export function resumeNotice(info: ResumeInfo): string {
  const cp = info.checkpoint;
  const warn = info.corruptions.length
    ? `\nsluice: warning: ${info.corruptions.length} damaged journal record(s) skipped: ${info.corruptions[0].message}`
    : "";
  if (!cp || cp.id === 0)
    return `sluice: resuming run ${info.runId} from the start (it stopped before its first checkpoint)${warn}`;
  return `sluice: resuming run ${info.runId} from checkpoint ${cp.id} (source offset ${formatOffset(cp.sourceOffset)}; ${int(cp.rowsIn)} rows in)${warn}`;
}

export function formatOffset(offset: unknown): string {
  if (typeof offset !== "object" || offset === null) return "start";
  const o = offset as Record<string, unknown>;
  if (typeof o.byte === "number")
    return `byte ${int(o.byte)}${typeof o.line === "number" ? `, line ${int(o.line)}` : ""}`;
  if (typeof o.index === "number") return `record ${int(o.index)}`;
  return JSON.stringify(offset);
}
