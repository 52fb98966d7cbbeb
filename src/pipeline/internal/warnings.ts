/**
 * @module Collects a run's `warning` events for its summary: the first
 * `MAX_WARNINGS` in full, and how many there were.
 */
import type { EventBus } from "../../events/bus.ts";
import type { EventOf } from "../../events/schema.ts";

/** Warnings kept in full in a run's summary (the journal has them all). */
export const MAX_WARNINGS = 100;

export interface WarningsSeen {
  readonly count: number;
  readonly first: ReadonlyArray<EventOf<"warning">>;
  /**
   * What the source said about its input at `info` level, for the summary (the Parquet
   * source: row groups read and skipped by statistics).
   */
  readonly sourceNotes: ReadonlyArray<string>;
}

/** Subscribes to `warning` events; `done()` unsubscribes and returns what was seen. */
export function collectWarnings(bus: EventBus): { done(): WarningsSeen } {
  const first: EventOf<"warning">[] = [];
  const sourceNotes: string[] = [];
  let count = 0;
  const sub = bus.subscribe(
    (e) => {
      if (e.kind === "log") {
        if (e.level === "info" && e.stage === "source" && sourceNotes.length < MAX_WARNINGS)
          sourceNotes.push(e.message);
        return;
      }
      count++;
      if (first.length < MAX_WARNINGS) first.push(e as EventOf<"warning">);
    },
    ["warning", "log"],
  );
  return {
    done() {
      sub.unsubscribe();
      return { count, first, sourceNotes };
    },
  };
}
