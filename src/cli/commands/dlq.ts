/**
 * @module `sluice dlq [RUN|PIPELINE]` and `sluice dlq show RUN`: a run's dead
 * letters as a queue. Without a run: every run that has dead letters, with
 * how many were redriven and how many are still dead. With one: the letters
 * still dead grouped by stage and normalised reason (count, first and last
 * position, a sample of the raw input); `show` prints whole letters, or with
 * `--raw` only their original input, one per line, to pipe into a file.
 * Reading settles finished redrives into the run's ledger (idempotent).
 */
import {
  filterLetters,
  groupLetters,
  groupsOverTime,
  type LetterFilter,
  openQueue,
  type QueueLetter,
  resolveRun,
  sampleOf,
} from "../../dlq/queue.ts";
import { listRuns, readRunMeta } from "../../journal/runs.ts";
import { stateHome } from "../../pipeline/run.ts";
import { toMillis } from "../../pipeline/units.ts";
import { systemClock } from "../../runtime/clock.ts";
import { stderr, stdout } from "../../runtime/process.ts";
import { EXIT, UsageError } from "../errors.ts";
import { int } from "../format.ts";

export interface DlqFlags {
  readonly home?: string;
  readonly json: boolean;
  readonly stage?: string;
  readonly reason?: string;
  readonly since?: string;
  readonly until?: string;
  readonly line?: string;
  readonly index?: string;
  /** `dead` (default), `redriven` or `all`. */
  readonly status?: string;
  /** `show`: print only the raw input. */
  readonly raw?: boolean;
}

export async function dlqCommand(args: readonly string[], flags: DlqFlags): Promise<number> {
  const home = stateHome(flags.home);
  const now = systemClock.now();
  if (args[0] === "show") {
    if (args.length !== 2) throw new UsageError("dlq show: expected one run id or pipeline name");
    return show(home, args[1], flags, now);
  }
  if (args.length > 1) throw new UsageError("dlq: expected at most one run id or pipeline name");
  if (args.length === 0) return overview(home, flags, now);
  const queue = await openQueue(await resolveRun(home, args[0]), now);
  const matching = filterLetters(queue.letters, filterOf(flags, now));
  if (flags.json) {
    // Each group also has its letters per bucket of their time range (from, to, bucketMs), as the API serves.
    const { from, to, bucketMs, groups } = groupsOverTime(matching);
    const { runId: run, pipeline } = queue.run;
    stdout.write(
      `${JSON.stringify({ run, pipeline, counts: queue.counts, pending: queue.pending, from, to, bucketMs, groups })}\n`,
    );
    return EXIT.ok;
  }
  const groups = groupLetters(matching);
  const c = queue.counts;
  const lines = [
    `${queue.run.pipeline} run ${queue.run.runId}: ${int(c.total)} dead letter${c.total === 1 ? "" : "s"} · ${int(c.redriven)} redriven · ${int(c.dead)} still dead`,
  ];
  for (const p of queue.pending)
    lines.push(`  redrive ${p.runId} did not complete (${p.status}): sluice resume ${p.runId}`);
  if (groups.length === 0) lines.push("  no letters match");
  for (const g of groups) {
    lines.push(
      "",
      `  ${int(g.count).padStart(6)} × [${g.stage}] ${g.reason}`,
      `         first ${where(g.first)} · last ${where(g.last)}`,
      `         sample: ${clip(g.sample)}`,
    );
  }
  if (c.dead > 0 && groups.length > 0)
    lines.push(
      "",
      `  show them: sluice dlq show ${queue.run.runId} --reason …   redrive: sluice redrive ${queue.run.runId}`,
    );
  stdout.write(`${lines.join("\n")}\n`);
  return EXIT.ok;
}

async function show(home: string, id: string, flags: DlqFlags, now: number): Promise<number> {
  const queue = await openQueue(await resolveRun(home, id), now);
  const letters = filterLetters(queue.letters, filterOf(flags, now));
  for (const l of letters) {
    if (flags.raw) stdout.write(`${l.original.raw ?? sampleOf(l.event)}\n`);
    else if (flags.json) stdout.write(`${JSON.stringify(letterJson(l))}\n`);
    else stdout.write(`${letterText(l)}\n`);
  }
  return EXIT.ok;
}

async function overview(home: string, flags: DlqFlags, now: number): Promise<number> {
  const rows: string[][] = [];
  const all: unknown[] = [];
  const runs = await listRuns(home, undefined, {
    onUnreadable: (e) => stderr.write(`sluice: warning: ${e.message} (${e.hint})\n`),
  });
  for (const r of runs) {
    if (r.status === "unreadable") {
      // Another user's run, or a damaged one: the others are listed.
      stderr.write(`sluice: warning: run ${r.runId} of pipeline ${r.pipeline} left out: ${r.error}\n`);
      continue;
    }
    if ((await readRunMeta(r.runDir))?.redriveOf !== undefined) continue;
    const q = await openQueue(r, now);
    if (q.counts.total === 0) continue;
    all.push({ run: r.runId, pipeline: r.pipeline, counts: q.counts });
    rows.push([r.runId, r.pipeline, int(q.counts.total), int(q.counts.redriven), int(q.counts.dead)]);
  }
  if (flags.json) stdout.write(`${JSON.stringify({ runs: all })}\n`);
  else if (rows.length === 0) stdout.write(`no dead letters under ${home}\n`);
  else stdout.write(table(["RUN", "PIPELINE", "DEAD LETTERS", "REDRIVEN", "STILL DEAD"], rows));
  return EXIT.ok;
}

export function filterOf(flags: DlqFlags, now: number): LetterFilter {
  const status = flags.status ?? "dead";
  if (status !== "dead" && status !== "redriven" && status !== "all")
    throw new UsageError(`--status: "${status}" is not one of dead, redriven, all`);
  return {
    status,
    stage: flags.stage,
    reason: flags.reason,
    line: whole(flags.line, "--line"),
    index: whole(flags.index, "--index"),
    since: time(flags.since, "--since", now),
    until: time(flags.until, "--until", now),
  };
}

function whole(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`${flag}: "${v}" is not a whole number`);
  return Number(v);
}

/** A time: an ISO date, or a duration meaning that long ago (`90m`, `2h`, `7d`). */
function time(v: string | undefined, flag: string, now: number): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(v)) return now - toMillis(v as never, flag);
  const t = Date.parse(v);
  if (Number.isNaN(t))
    throw new UsageError(`${flag}: "${v}" is neither a date (2026-12-06T10:00Z) nor a duration ago (2h)`);
  return t;
}

function letterJson(l: QueueLetter): Record<string, unknown> {
  const e = l.event;
  return {
    index: l.index,
    status: l.status,
    stage: e.stage,
    reason: e.reason,
    error: e.error,
    attempts: e.attempts,
    redrives: l.redrives,
    position: e.position,
    ts: e.ts,
    raw: e.raw,
    record: e.record,
  };
}

function letterText(l: QueueLetter): string {
  const e = l.event;
  const lines = [
    `#${l.index} ${l.status} · ${where(e.position)} · stage ${e.stage} · attempts ${e.attempts}${l.redrives ? ` · redrives ${l.redrives}` : ""} · ${new Date(e.ts).toISOString()}`,
    `  reason: ${e.reason}`,
  ];
  if (e.error !== undefined && !e.reason.includes(e.error)) lines.push(`  error:  ${e.error}`);
  if (e.raw !== undefined) lines.push(`  raw:    ${e.raw}`);
  if (e.record !== undefined) lines.push(`  record: ${JSON.stringify(e.record)}`);
  return lines.join("\n");
}

function where(p: QueueLetter["event"]["position"]): string {
  if (p.line !== undefined) return `${p.file ?? ""}${p.file ? ":" : "line "}${p.line}`;
  if (p.chunk !== undefined) return `chunk ${p.chunk} #${p.index ?? 0}`;
  return "—";
}

function clip(s: string, max = 100): string {
  const one = s.replace(/\n/g, "⏎");
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join("\n")}\n`;
}
