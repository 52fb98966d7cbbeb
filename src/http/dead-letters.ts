/**
 * @module What the dead-letter routes read: a run's queue (`dlq/queue.ts`)
 * from the state directory the server serves, grouped (over time) or as letters. Reading
 * settles finished redrives into the run's ledger, as `sluice dlq` does.
 */
import { filterLetters, groupsOverTime, type LetterFilter, openQueue, resolveRun } from "../dlq/queue.ts";
import type { RunRef } from "../journal/runs.ts";
import { StateError } from "../pipeline/errors.ts";
import type { Clock } from "../runtime/clock.ts";
import { NotFoundError } from "./errors.ts";

export interface DeadLetterSource {
  /**
   * The run's counts, pending redrives and groups (by stage and normalised
   * reason), each with its letters per bucket (`series`) of the matching
   * letters' time range (`from`, `to`, `bucketMs`) cut in `buckets`.
   */
  groups(run: string, filter: LetterFilter, buckets: number): Promise<Record<string, unknown>>;
  /** The run's letters, at most `limit`. */
  letters(run: string, filter: LetterFilter, limit: number): Promise<Record<string, unknown>>;
}

export function deadLetterSource(home: string, clock: Clock): DeadLetterSource {
  const open = async (run: string) => openQueue(await resolveRunOr404(home, run), clock.now());
  return {
    async groups(run, filter, buckets) {
      const q = await open(run);
      const { from, to, bucketMs, groups } = groupsOverTime(filterLetters(q.letters, filter), buckets);
      return {
        run: q.run.runId,
        pipeline: q.run.pipeline,
        counts: q.counts,
        pending: q.pending,
        from,
        to,
        bucketMs,
        groups,
      };
    },
    async letters(run, filter, limit) {
      const q = await open(run);
      const all = filterLetters(q.letters, filter);
      const items = all.slice(0, limit).map((l) => ({
        index: l.index,
        status: l.status,
        redrives: l.redrives,
        stage: l.event.stage,
        reason: l.event.reason,
        error: l.event.error,
        attempts: l.event.attempts,
        position: l.event.position,
        ts: l.event.ts,
        raw: l.original.raw,
        record: l.event.record,
      }));
      return { run: q.run.runId, total: all.length, items };
    },
  };
}

/** The run whose queue `id` names (`resolveRun`), or a 404 when none (or several) match. */
export async function resolveRunOr404(home: string, id: string): Promise<RunRef> {
  try {
    return await resolveRun(home, id);
  } catch (e) {
    // Its message names the state directory: the client gets the id alone.
    if (e instanceof StateError) throw new NotFoundError(`run ${id}`);
    throw e;
  }
}
