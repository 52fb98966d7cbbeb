/**
 * @module `sluice run FILE`: loads a pipeline file, runs it with a live
 * progress line, prints the summary. Ctrl-C stops reading, takes a last
 * checkpoint and exits 130; a second Ctrl-C exits at once.
 */
import { EventBus } from "../../events/bus.ts";
import type { Pipeline } from "../../pipeline/pipeline.ts";
import { type RunOptions, type RunSummary, runPipeline } from "../../pipeline/run.ts";
import { exit, onSignal, stderr, stdout } from "../../runtime/process.ts";
import { EXIT, formatError } from "../errors.ts";
import { bytes, compact, duration, int } from "../format.ts";
import { loadPipeline } from "../load.ts";
import { progressLine } from "../progress.ts";

export interface RunFlags {
  quiet: boolean;
  verbose: boolean;
  home?: string;
}

export type RunHook = (p: Pipeline<unknown>, bus: EventBus, options: RunOptions) => Promise<RunOptions>;

/** Runs a pipeline file; returns the exit code. `prepare` lets other layers (journal, metrics, HTTP) attach. */
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
  let options: RunOptions = { bus, signal: controller.signal, home: flags.home };
  if (prepare) options = await prepare(p, bus, options);
  let summary: RunSummary;
  try {
    summary = await runPipeline(p, options);
  } finally {
    progress?.stop();
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
    `  rows in ${int(s.rowsIn)} · out ${int(s.rowsOut)} · filtered ${int(s.filtered)} · dead-lettered ${int(s.deadLettered)}`,
    `  ${compact(s.rowsPerSecond)} rows/s${s.bytes ? ` · ${bytes(s.bytes)} read` : ""} · ${s.checkpoints} checkpoints`,
  ];
  if (s.output) lines.push(`  output: ${s.output}`);
  if (s.deadLetterFile) lines.push(`  dead letters: ${s.deadLetterFile}`);
  if (s.status === "interrupted")
    lines.push("  resume with: sluice run <same file>  (or --fresh to start over)");
  return lines.join("\n");
}
