/**
 * @module `sluice run FILE`: loads a pipeline file, runs it with the plugins
 * its flags ask for (journal, alerts, summary, tuning, HTTP, progress line),
 * prints the summary. If the pipeline's latest
 * run crashed or was interrupted it is resumed from its last checkpoint
 * (`--fresh` starts a new run instead). Ctrl-C stops reading, takes a last
 * checkpoint and exits 130; a second Ctrl-C exits at once (the run resumes
 * from its last durable checkpoint).
 */
import { journal, type ResumeInfo } from "../../journal/run-journal.ts";
import { adaptive } from "../../metrics/adaptive-plugin.ts";
import { type AlertsPlugin, alerts } from "../../metrics/alerts-plugin.ts";
import { metricsEnabled } from "../../metrics/enabled.ts";
import { runSummaries } from "../../metrics/run-summaries.ts";
import { describeError } from "../../pipeline/errors.ts";
import type { RunPlugin } from "../../pipeline/plugin.ts";
import { type RunSummary, runPipeline } from "../../pipeline/run.ts";
import { paths } from "../../runtime/fs.ts";
import { exit, onSignal, stderr, stdout } from "../../runtime/process.ts";
import { EXIT, formatError } from "../errors.ts";
import { bytes, compact, duration, int } from "../format.ts";
import { loadPipeline } from "../load.ts";
import { progressPlugin } from "../progress.ts";
import {
  deadLetterLinesNote,
  sideOutputLines,
  sideOutputNote,
  sourceNoteLines,
  warningLines,
} from "../summary-notes.ts";

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
  /** `--serve`: the HTTP plugin (loaded only when asked for), given the run's alert plugin. */
  serve?: (alerts: AlertsPlugin | undefined) => RunPlugin;
}

/**
 * The plugins a `sluice run` builds from its flags, in order: the journal
 * (always; first, so a checkpoint is durable before anything else sees it),
 * alert evaluation and the per-pipeline summary (unless `SLUICE_METRICS=off`),
 * adaptive tuning (`--adaptive`), the HTTP API (`--serve`) and the progress
 * line (unless `--quiet`). No plugin loads DuckDB: the metrics store is
 * caught up from the journals by whatever reads it.
 */
export function runPlugins(file: string, flags: RunFlags): RunPlugin[] {
  const warn = (what: string) => (e: unknown) => {
    if (!flags.quiet) stderr.write(`sluice: warning: ${what}: ${describeError(e)}\n`);
  };
  const plugins: RunPlugin[] = [
    journal({
      resume: flags.resume ?? !flags.fresh,
      journal: flags.fsync ? { fsync: flags.fsync } : undefined,
      file: paths.resolve(file),
      onResume: (info) => {
        if (!flags.quiet) stderr.write(`${resumeNotice(info)}\n`);
      },
    }),
  ];
  const alerting = metricsEnabled() ? alerts() : undefined;
  if (alerting) plugins.push(alerting, runSummaries({ onError: warn("the pipeline's run summary") }));
  if (flags.adaptive) plugins.push(adaptive());
  if (flags.serve) plugins.push(flags.serve(alerting));
  if (!flags.quiet) plugins.push(progressPlugin(stderr));
  return plugins;
}

/** Runs a pipeline file with its journal; returns the exit code. */
export async function runCommand(file: string, flags: RunFlags): Promise<number> {
  const p = await loadPipeline(file);
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
  let summary: RunSummary;
  try {
    summary = await runPipeline(p, {
      signal: controller.signal,
      home: flags.home,
      plugins: runPlugins(file, flags),
    });
  } finally {
    for (const f of off) f();
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
    `  rows in ${int(s.rowsIn)} · out ${int(s.rowsOut)} · filtered ${int(s.filtered)} · dead-lettered ${int(s.deadLettered)}${deadLetterLinesNote(s)}${sideOutputNote(s)}`,
    `  ${compact(s.rowsPerSecond)} rows/s${s.bytes ? ` · ${bytes(s.bytes)} read` : ""} · ${s.checkpoints} checkpoint${s.checkpoints === 1 ? "" : "s"}`,
  ];
  // A file sink publishes its target only when the run completes; a table has what was committed.
  if (s.output)
    lines.push(
      `  output${s.status === "completed" ? "" : ` (not complete: the run ${s.status === "failed" ? "failed" : "was interrupted"})`}: ${s.output}`,
    );
  if (s.deadLetterFile) lines.push(`  dead letters: ${s.deadLetterFile}`);
  lines.push(...sideOutputLines(s));
  lines.push(...sourceNoteLines(s));
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
