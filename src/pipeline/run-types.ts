/**
 * @module What `runPipeline` takes and gives back: its options and the run
 * summary (kept apart from `run.ts`, which re-exports both).
 */
import type { EventBus } from "../events/bus.ts";
import type { EventOf } from "../events/schema.ts";
import type { Clock } from "../runtime/clock.ts";
import type { SluiceError } from "./errors.ts";
import type { StageTotals } from "./internal/meter.ts";
import type { SideOutputSummary } from "./internal/side-outputs.ts";
import type { WarningsSeen } from "./internal/warnings.ts";
import type { ResumePoint, RunPlugin } from "./plugin.ts";

export interface RunOptions {
  /** State directory root; default `SLUICE_HOME` or `./.sluice`. */
  readonly home?: string;
  readonly runId?: string;
  readonly clock?: Clock;
  /** The bus to publish on (subscribe before running to see every event). */
  readonly bus?: EventBus;
  /** Aborting stops reading, takes a last checkpoint and ends the run as `interrupted`. */
  readonly signal?: AbortSignal;
  readonly resume?: ResumePoint;
  /**
   * Called with each checkpoint event after the sink committed; the run waits
   * for it and publishes the event on the bus only once it resolves. A
   * rejection fails the run. (A plugin's `checkpoint` does the same.)
   */
  readonly onCheckpoint?: (checkpoint: EventOf<"checkpoint">) => Promise<void>;
  /** Sample CPU/memory/event-loop every second (default true). */
  readonly sampleResources?: boolean;
  /** What watches or records the run: journal, alerts, tuning, live HTTP… (see `RunPlugin`). */
  readonly plugins?: readonly RunPlugin[];
}

export interface RunSummary {
  readonly runId: string;
  readonly pipeline: string;
  readonly status: "completed" | "failed" | "interrupted";
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly filtered: number;
  readonly deadLettered: number;
  /** Records stages sent to side outputs instead of their output (a window's `late` sink). */
  readonly sideOutput: number;
  readonly bytes: number;
  readonly durationMs: number;
  readonly rowsPerSecond: number;
  readonly checkpoints: number;
  readonly output?: string;
  readonly deadLetterFile?: string;
  /** Each side output with where it went and its rows (absent when the pipeline has none). */
  readonly sideOutputs?: ReadonlyArray<SideOutputSummary>;
  /** Input lines the dead-lettered records cover (a record with a quoted line break covers several). */
  readonly deadLetterLines?: number;
  /** `warning` events of the run (a CSV record spanning thousands of lines, …). */
  readonly warnings?: WarningsSeen;
  /** What the source reported about its input (Parquet: row groups read and skipped by statistics). */
  readonly sourceNotes?: ReadonlyArray<string>;
  readonly runDir: string;
  readonly stages: ReadonlyArray<StageTotals>;
  readonly error?: SluiceError;
}
