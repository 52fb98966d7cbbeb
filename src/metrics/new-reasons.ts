/**
 * @module What the `newDeadLetterReason` alert rule reads: per live run, the
 * (stage, normalised reason) pairs its pipeline's earlier runs dead-lettered
 * (from the per-pipeline summary, `run-summaries.ts`), and how many letters of
 * each pair this run sent that none of them had. A run of a pipeline with no
 * history is not evaluated: with nothing to compare with, no reason is "new".
 */
import { normaliseReason } from "../events/dead-letter-reason.ts";
import type { EventOf } from "../events/schema.ts";

/** The key a reason is known by: `stage|normalised reason`. */
export function reasonKey(stage: string, reason: string): string {
  return `${stage}|${normaliseReason(reason)}`;
}

export interface NewReason {
  readonly key: string;
  readonly reason: string;
  /** Letters of this new reason in the run so far. */
  readonly count: number;
}

export class NewReasons {
  readonly #runs = new Map<string, { known: ReadonlySet<string>; counts: Map<string, number> }>();

  /** The reasons the pipeline's earlier runs had; undefined (no history): the run is not evaluated. */
  set(runId: string, known: ReadonlySet<string> | undefined): void {
    if (known) this.#runs.set(runId, { known, counts: new Map() });
    else this.#runs.delete(runId);
  }

  forget(runId: string): void {
    this.#runs.delete(runId);
  }

  /** The letter's reason when no earlier run had it, with its count so far; else undefined. */
  observe(e: EventOf<"dead.letter">): NewReason | undefined {
    const run = this.#runs.get(e.runId);
    if (!run) return undefined;
    const key = reasonKey(e.stage, e.reason);
    if (run.known.has(key)) return undefined;
    const count = (run.counts.get(key) ?? 0) + 1;
    run.counts.set(key, count);
    return { key, reason: normaliseReason(e.reason), count };
  }
}
