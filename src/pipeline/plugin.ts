/**
 * @module Run plugins: everything that watches or records a run is a plugin
 * of the one runner (DESIGN §2), as Redpanda Connect and Vector build a run
 * from a list of components with one lifecycle. The journal, alert
 * evaluation, adaptive tuning, the per-pipeline summary, live HTTP and the
 * progress line are plugins; `sluice run` maps its flags to a plugin list, so
 * every way of starting a run builds the same event path.
 *
 * Lifecycle, in order, for the plugins in the order given:
 * 1. `prepare` before anything opens: a plugin may pick the run (the journal
 *    chooses a new run id or the run to resume and its checkpoint) or add a
 *    stop signal (`--serve`'s cancel route).
 * 2. `start` once the run's id is known and its stages are open, before
 *    `run.started` is published: subscribe to the bus here.
 * 3. `checkpoint` at each barrier, after the sink committed and before the
 *    checkpoint event is published; awaited in order, a rejection fails the
 *    run (the journal makes the checkpoint durable here).
 * 4. `close` after `run.ended` (in reverse order): flush and release. It may
 *    return a changed summary (the journal fails a run whose last sync did
 *    not reach the disk).
 */
import type { EventBus } from "../events/bus.ts";
import type { EventInput, EventOf } from "../events/schema.ts";
import type { Clock } from "../runtime/clock.ts";
import type { Pipeline } from "./pipeline.ts";
import type { RunSummary } from "./run.ts";
import type { Knob } from "./types.ts";

/** What a resumed run continues from (read from the journal's last checkpoint). */
export interface ResumePoint {
  readonly runId: string;
  readonly checkpoint: EventOf<"checkpoint">;
}

export interface PrepareContext {
  readonly pipeline: Pipeline<unknown>;
  /** The state directory root, resolved. */
  readonly home: string;
  readonly clock: Clock;
  /** The run's bus (a plugin serving live views subscribes here before the run starts). */
  readonly bus: EventBus;
  /** The run id the caller asked for, if any. */
  readonly runId: string | undefined;
}

export interface Prepared {
  /** The run's id (a plugin that picks runs sets it; the first one set wins). */
  readonly runId?: string;
  /** Continue from this checkpoint. */
  readonly resume?: ResumePoint;
  /** Aborting this stops the run like Ctrl-C does. */
  readonly signal?: AbortSignal;
  /** Re-cut the source's chunks to a row count a tuning plugin sets (the `source` knob). */
  readonly rechunkSource?: boolean;
}

/** A setting a stage offered for tuning, with the stage that offered it. */
export interface OfferedKnob {
  readonly stage: string;
  readonly knob: Knob;
}

export interface StartedRun {
  readonly runId: string;
  readonly pipeline: Pipeline<unknown>;
  readonly home: string;
  readonly runDir: string;
  readonly bus: EventBus;
  readonly clock: Clock;
  /** The checkpoint the run resumed from, if it did. */
  readonly resumedFrom: number | undefined;
  /** Settings the stages (and the source's chunk size) offered for tuning. */
  readonly knobs: readonly OfferedKnob[];
  /** Publishes an event of this run (stamped with its time, run id and pipeline). */
  emit(event: EventInput): void;
}

export interface RunPlugin {
  readonly name: string;
  prepare?(ctx: PrepareContext): Promise<Prepared | undefined> | Prepared | undefined;
  start?(run: StartedRun): Promise<void> | void;
  checkpoint?(checkpoint: EventOf<"checkpoint">): Promise<void> | void;
  close?(summary: RunSummary): Promise<RunSummary | undefined> | RunSummary | undefined;
}
