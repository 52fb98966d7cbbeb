/**
 * @module `sluice replay RUN|PIPELINE [--json]` (a pipeline name: its latest
 * run): the run's status, counts and
 * per-stage totals rebuilt from its journal alone with the same projection
 * the live run feeds (`RunProjection`), so it prints what the live summary
 * said — also for a run that crashed and was resumed.
 */
import { findRun, inspectRun, replayRun } from "../../journal/runs.ts";
import { stateHome } from "../../pipeline/run.ts";
import { stderr, stdout } from "../../runtime/process.ts";
import { EXIT } from "../errors.ts";
import { int } from "../format.ts";
import { formatOffset } from "./run.ts";
import { statusText } from "./runs.ts";

export interface ReplayFlags {
  readonly home?: string;
  readonly json: boolean;
}

export async function replayCommand(id: string, flags: ReplayFlags): Promise<number> {
  const ref = await findRun(stateHome(flags.home), id);
  // Damaged bytes lose the events in them: the run is replayed from the others, and says so.
  const onCorruption = (e: Error) =>
    stderr.write(`sluice: warning: ${e.message} The run is replayed from the other events.\n`);
  const [{ state, events, skipped }, info] = await Promise.all([
    replayRun(ref.runDir, { onCorruption }),
    inspectRun(ref),
  ]);
  if (flags.json) {
    stdout.write(`${JSON.stringify({ ...state, status: info.status, events, skipped })}\n`);
    return EXIT.ok;
  }
  if (!state) {
    stdout.write(`run ${ref.runId} of ${ref.pipeline}: the journal holds no events (${statusText(info)})\n`);
    return EXIT.ok;
  }
  const mark = info.status === "completed" ? "✔" : info.status === "failed" ? "✘" : "◼";
  const lines = [
    `${mark} ${state.pipeline} ${statusText(info)} (run ${state.runId}, ${state.attempts} attempt${state.attempts === 1 ? "" : "s"}; replayed from ${int(events)} journaled events)`,
    `  rows in ${int(state.rowsIn)} · out ${int(state.rowsOut)} · filtered ${int(state.filtered)} · dead-lettered ${int(state.deadLettered)}`,
  ];
  if (state.lastCheckpoint) {
    const c = state.lastCheckpoint;
    lines.push(`  last checkpoint #${c.id} at ${formatOffset(c.sourceOffset)} (${int(c.rowsIn)} rows in)`);
  }
  if (state.error) lines.push(`  error: ${state.error}`);
  if (skipped) lines.push(`  ${skipped} journal record(s) were not valid events and were skipped`);
  const head = ["stage", "rows in", "rows out", "filtered", "dead-lettered"];
  const rows = state.stages.map((s) => [
    s.stage,
    int(s.rowsIn),
    int(s.rowsOut),
    int(s.filtered),
    int(s.deadLettered),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")}`;
  lines.push(fmt(head), ...rows.map(fmt));
  stdout.write(`${lines.join("\n")}\n`);
  return EXIT.ok;
}
