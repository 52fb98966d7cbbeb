/**
 * @module A run's dead-letter queue as it stands: every letter of its
 * dead-letter file with what redrives made of it (from the ledger, settled
 * first), filtered by status, stage, reason, time or input line, and grouped
 * by normalised reason (`events/dead-letter-reason.ts`), over time with a
 * timeline (`timeline.ts`), for `sluice dlq`, the HTTP API and the dashboard.
 */
import { normaliseReason } from "../events/dead-letter-reason.ts";
import type { Position } from "../events/schema.ts";
import { findRun, listRunRefs, type RunRef, readRunMeta } from "../journal/runs.ts";
import { type Ledger, type PendingRedrive, settle } from "./ledger.ts";
import { type DeadLetterEvent, readLetters } from "./letters.ts";
import { bucketOf, DEFAULT_BUCKETS, type Timeline, timelineOf } from "./timeline.ts";

/** One dead letter of the run and where it stands. */
export interface QueueLetter {
  /** Its index in the run's dead-letter file (`sluice dlq show --index`). */
  readonly index: number;
  readonly status: "dead" | "redriven";
  /** The letter as it stands: the first run's, or the latest redrive's failure when it failed again. */
  readonly event: DeadLetterEvent;
  /** The letter as the first run wrote it (its raw input, for `sluice dlq show --raw`). */
  readonly original: DeadLetterEvent;
  readonly redrives: number;
  /** The redrive that decided its status, if any. */
  readonly by?: string;
}

export interface Queue {
  readonly run: RunRef;
  readonly letters: QueueLetter[];
  readonly ledger: Ledger;
  /** Redrives that have not completed (resume them with `sluice resume`). */
  readonly pending: PendingRedrive[];
  /** Counts: total = redriven + dead. */
  readonly counts: { readonly total: number; readonly redriven: number; readonly dead: number };
}

/**
 * The run whose queue `id` names: a run id (a redrive's id names the run it
 * redrove, whose queue it changed) or a pipeline name (its latest run that
 * is not a redrive).
 */
export async function resolveRun(home: string, id: string): Promise<RunRef> {
  const own = (await listRunRefs(home, id).catch(() => [])).reverse();
  for (const r of own) if ((await readRunMeta(r.runDir))?.redriveOf === undefined) return r;
  const ref = await findRun(home, id);
  const of = (await readRunMeta(ref.runDir))?.redriveOf;
  return of === undefined ? ref : findRun(home, of);
}

export async function openQueue(run: RunRef, now: number): Promise<Queue> {
  const { ledger, pending } = await settle(run.runDir, run.runId, run.pipeline, now);
  const letters: QueueLetter[] = (await readLetters(run.runDir)).map(({ index, event }) => {
    const o = ledger.letters[index];
    if (!o) return { index, status: "dead", event, original: event, redrives: 0 };
    return {
      index,
      status: o.status,
      event: o.event ?? event,
      original: event,
      redrives: o.redrives,
      by: o.by,
    };
  });
  const redriven = letters.filter((l) => l.status === "redriven").length;
  return {
    run,
    letters,
    ledger,
    pending,
    counts: { total: letters.length, redriven, dead: letters.length - redriven },
  };
}

export interface LetterFilter {
  /** `dead` (default), `redriven` or `all`. */
  readonly status?: "dead" | "redriven" | "all";
  readonly stage?: string;
  /** Part of the reason (as written or normalised), case-insensitive. */
  readonly reason?: string;
  /** Input line the record starts on. */
  readonly line?: number;
  /** Index in the dead-letter file. */
  readonly index?: number;
  /** Failed at or after / before these times (ms since epoch). */
  readonly since?: number;
  readonly until?: number;
}

export function filterLetters(letters: readonly QueueLetter[], f: LetterFilter): QueueLetter[] {
  const status = f.status ?? "dead";
  const needle = f.reason?.toLowerCase();
  return letters.filter((l) => {
    const e = l.event;
    if (status !== "all" && l.status !== status) return false;
    if (f.stage !== undefined && e.stage !== f.stage) return false;
    if (f.line !== undefined && e.position.line !== f.line) return false;
    if (f.index !== undefined && l.index !== f.index) return false;
    if (f.since !== undefined && e.ts < f.since) return false;
    if (f.until !== undefined && e.ts >= f.until) return false;
    if (needle !== undefined) {
      const r = e.reason.toLowerCase();
      if (!r.includes(needle) && !normaliseReason(e.reason).toLowerCase().includes(needle)) return false;
    }
    return true;
  });
}

/** A group of letters with one normalised reason at one stage. */
export interface LetterGroup {
  readonly reason: string;
  readonly stage: string;
  readonly count: number;
  /** Position of the first and last letter of the group (in dead-letter order). */
  readonly first: Position;
  readonly last: Position;
  readonly firstTs: number;
  readonly lastTs: number;
  /** The raw input of the group's first letter (its record as JSON when it has no raw text). */
  readonly sample: string;
  /** The raw input of the group's first letters, at most `SAMPLES` (the first is `sample`). */
  readonly samples: string[];
  /** With a timeline: the group's letters per bucket (by the time each letter failed). */
  readonly series?: number[];
}

/** How many sample inputs a group keeps. */
export const SAMPLES = 3;

/**
 * Letters grouped by (stage, normalised reason), largest group first; with
 * a timeline, each group counts its letters per bucket of it (`series`).
 */
export function groupLetters(letters: readonly QueueLetter[], timeline?: Timeline): LetterGroup[] {
  interface Acc {
    first: QueueLetter;
    last: QueueLetter;
    count: number;
    reason: string;
    samples: string[];
    series?: number[];
  }
  const groups = new Map<string, Acc>();
  for (const l of letters) {
    const reason = normaliseReason(l.event.reason);
    const key = `${l.event.stage}\u0000${reason}`;
    let g = groups.get(key);
    if (g) {
      g.count++;
      g.last = l;
      if (g.samples.length < SAMPLES) g.samples.push(sampleOf(l.event));
    } else {
      g = { first: l, last: l, count: 1, reason, samples: [sampleOf(l.event)] };
      if (timeline) g.series = new Array<number>(timeline.buckets).fill(0);
      groups.set(key, g);
    }
    if (g.series && timeline) {
      const i = bucketOf(timeline, l.event.ts);
      if (i >= 0) g.series[i]++;
    }
  }
  return [...groups.values()]
    .map((g) => ({
      reason: g.reason,
      stage: g.first.event.stage,
      count: g.count,
      first: g.first.event.position,
      last: g.last.event.position,
      firstTs: g.first.event.ts,
      lastTs: g.last.event.ts,
      sample: g.samples[0],
      samples: g.samples,
      ...(g.series ? { series: g.series } : {}),
    }))
    .sort((a, b) => b.count - a.count || a.firstTs - b.firstTs);
}

/** Groups over time: the letters' time range cut in `buckets`, and each group's `series` over it. */
export interface GroupsOverTime {
  /** The timeline's range and bucket width (ms since epoch, ms); null without letters. */
  readonly from: number | null;
  readonly to: number | null;
  readonly bucketMs: number | null;
  readonly groups: LetterGroup[];
}

/** `groupLetters` over the time range of these letters (by the time each failed), in `buckets` buckets. */
export function groupsOverTime(
  letters: readonly QueueLetter[],
  buckets: number = DEFAULT_BUCKETS,
): GroupsOverTime {
  const tl = timelineOf(
    letters.map((l) => l.event.ts),
    buckets,
  );
  return {
    from: tl?.from ?? null,
    to: tl?.to ?? null,
    bucketMs: tl?.bucketMs ?? null,
    groups: groupLetters(letters, tl),
  };
}

/** The letter's original input: its raw text, or its record as JSON. */
export function sampleOf(e: DeadLetterEvent): string {
  if (e.raw !== undefined) return e.raw;
  return e.record === undefined ? "" : JSON.stringify(e.record);
}
