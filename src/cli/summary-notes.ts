/**
 * @module Lines the run summary adds when a run has warnings, dead letters
 * covering many input lines or side outputs (kept apart from `commands/run.ts`).
 */
import type { RunSummary } from "../pipeline/run.ts";
import { int } from "./format.ts";

/** Warning messages shown in the summary; the rest are counted. */
const SHOWN = 3;

/** " (covering 50,001 input lines)" after the dead-letter count, when file records were dead-lettered. */
export function deadLetterLinesNote(s: RunSummary): string {
  const n = s.deadLetterLines ?? 0;
  return n > 0 ? ` (covering ${int(n)} input line${n === 1 ? "" : "s"})` : "";
}

/** "  ⚠ 2 warnings:" and the first few messages, or nothing. */
export function warningLines(s: RunSummary): string[] {
  const w = s.warnings;
  if (!w || w.count === 0) return [];
  const out = [`  ⚠ ${int(w.count)} warning${w.count === 1 ? "" : "s"}:`];
  for (const e of w.first.slice(0, SHOWN)) out.push(`    ${e.message}`);
  if (w.count > SHOWN)
    out.push(`    … and ${int(w.count - SHOWN)} more: sluice events ${s.runId} --kind warning`);
  return out;
}

/** What the source reported about its input (Parquet: "parquet: 1 file, 3 of 82 row groups read (79 skipped …)"). */
export function sourceNoteLines(s: RunSummary): string[] {
  return (s.sourceNotes ?? []).map((n) => `  ${n}`);
}

/** " · 12 to side outputs" after the dead-letter count, when stages sent records to side outputs. */
export function sideOutputNote(s: RunSummary): string {
  return s.sideOutput > 0
    ? ` · ${int(s.sideOutput)} to side output${s.sideOutputs?.length === 1 ? "" : "s"}`
    : "";
}

/** "  late (3:window.tumbling): 12 → /data/late.ndjson", one line per side output. */
export function sideOutputLines(s: RunSummary): string[] {
  return (s.sideOutputs ?? []).map((o) => `  ${o.name} (${o.stage}): ${int(o.rows)} → ${o.target ?? o.sink}`);
}
