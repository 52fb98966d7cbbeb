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
}

/** Subscribes to `warning` events; `done()` unsubscribes and returns what was seen. */
export function collectWarnings(bus: EventBus): { done(): WarningsSeen } {
  const first: EventOf<"warning">[] = [];
  let count = 0;
  const sub = bus.subscribe(
    (e) => {
      count++;
      if (first.length < MAX_WARNINGS) first.push(e as EventOf<"warning">);
    },
    ["warning"],
  );
  return {
    done() {
      sub.unsubscribe();
      return { count, first };
    },
  };
}

/**
 * Subscribes to what the source says about its input at `info` level (the Parquet source: row
 * groups read and skipped by statistics); `done()` unsubscribes and returns the messages.
 */
export function collectSourceNotes(bus: EventBus): { done(): string[] } {
  const notes: string[] = [];
  const sub = bus.subscribe(
    (e) => {
      if (e.kind === "log" && e.level === "info" && e.stage === "source" && notes.length < MAX_WARNINGS)
        notes.push(e.message);
    },
    ["log"],
  );
  return {
    done() {
      sub.unsubscribe();
      return notes;
    },
  };
}
