/**
 * @module Journals of long runs for the catch-up benchmark's second mix: what a run journals over
 * time (a `stage.progress` per stage and a `resource.sample` each second, a checkpoint every ten
 * seconds) with dead letters as 5% of the events. A real run takes a second per interval, so an
 * hour of them cannot be made by running; they are written here through the journal's own writer
 * (`openJournal`, `toJournalValue`), as the journal plugin writes them. `run.started`,
 * `run.ended`, checkpoints and dead letters are copied from a real run's journal (`template`),
 * with this run's id and times; the progress events are `lib/metrics-events.ts`'s, with the
 * template's stage names.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SluiceEvent } from "../../src/events/schema.ts";
import { toJournalValue } from "../../src/journal/internal/plain.ts";
import { openJournal } from "../../src/journal/journal.ts";
import { JOURNAL_DIR, RUN_META_FILE, type RunRef, readRunEvents } from "../../src/journal/runs.ts";
import { HISTS, resourceSample } from "./metrics-events.ts";

export interface MixOptions {
  readonly runs: number;
  readonly eventsPerRun: number;
  /** Every `deadEvery`-th event is a dead letter (20: 5%). */
  readonly deadEvery: number;
}

/** Writes `runs` journals under `home`; returns the number of events written. */
export async function writeMixRuns(home: string, template: RunRef, o: MixOptions): Promise<number> {
  const events: SluiceEvent[] = [];
  for await (const { event } of readRunEvents(template.runDir)) events.push(event);
  const started = events.find((e) => e.kind === "run.started");
  const ended = events.find((e) => e.kind === "run.ended");
  const checkpoint = events.find((e) => e.kind === "checkpoint");
  const dead = events.filter((e) => e.kind === "dead.letter");
  const stages = [...new Set(events.filter((e) => e.kind === "stage.progress").map((e) => e.stage))];
  if (!started || !ended || !checkpoint || dead.length === 0 || stages.length === 0)
    throw new Error(
      `${template.runDir}: the template run must have started, ended, checkpointed and dead-lettered`,
    );
  const meta = JSON.parse(readFileSync(join(template.runDir, RUN_META_FILE), "utf8"));
  let written = 0;
  for (let r = 0; r < o.runs; r++) {
    const runId = `20260101T${String(r).padStart(9, "0")}Z-${(0xabc000 + r).toString(16)}`;
    const runDir = join(home, template.pipeline, runId);
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, RUN_META_FILE), JSON.stringify({ ...meta, runId }));
    const journal = await openJournal(join(runDir, JOURNAL_DIR), { fsync: "checkpoint" });
    const t0 = Date.UTC(2026, 0, 1) + r * 86_400_000;
    const put = (e: SluiceEvent) => {
      journal.append(toJournalValue({ ...e, runId }));
      written++;
    };
    put({ ...started, ts: t0 });
    let second = 0;
    let k = 0;
    let i = 1;
    while (i < o.eventsPerRun - 1) {
      second++;
      const ts = t0 + second * 1000;
      // One interval: a progress event per stage, a resource sample, every tenth also a checkpoint.
      const interval: SluiceEvent[] = stages.map((stage, index) => ({
        kind: "stage.progress" as const,
        ts,
        runId,
        pipeline: template.pipeline,
        stage,
        index,
        chunks: 10,
        rowsIn: 10_000,
        rowsOut: 9_500,
        filtered: 0,
        deadLettered: 500,
        errors: 0,
        bytes: 1_000_000,
        busyMs: 100 + index * 50,
        intervalMs: 1000,
        latency: HISTS[(second * 31 + index) % HISTS.length],
      }));
      interval.push({ ...resourceSample(i, ts, o.eventsPerRun), runId, pipeline: template.pipeline });
      if (second % 10 === 0) interval.push({ ...checkpoint, ts, id: second / 10 });
      for (const e of interval) {
        if (i >= o.eventsPerRun - 1) break;
        if (i % o.deadEvery === 0) {
          put({ ...dead[k++ % dead.length], ts });
          i++;
          if (i >= o.eventsPerRun - 1) break;
        }
        put(e);
        i++;
      }
    }
    put({ ...ended, ts: t0 + (second + 1) * 1000 });
    await journal.close();
  }
  return written;
}
