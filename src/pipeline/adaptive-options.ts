/**
 * @module The settings of adaptive configuration, as a pipeline's `adaptive`
 * option carries them (the controller that applies them is
 * `metrics/adaptive.ts`, run by the `adaptive()` plugin).
 */
import type { Duration } from "./units.ts";

export interface AdaptiveOptions {
  /** How often the controller decides (default "1s"). */
  readonly interval?: Duration;
  /** Nothing changes before the run has been going this long (default "3s"). */
  readonly warmup?: Duration;
  /** After a change, nothing changes for this long (default "3s"). */
  readonly cooldown?: Duration;
  /** Per-chunk time the chunk size is tuned toward: the slowest stage's p99 (default "100ms"). */
  readonly targetLatency?: Duration;
  /** Bounds of the source chunk size in rows (default 100 to 10 000); `false` leaves it alone. */
  readonly chunkRows?: { readonly min?: number; readonly max?: number } | false;
  /** Bounds of each parallelMap's workers (default 1 to the cores); `false` leaves them alone. */
  readonly workers?: { readonly min?: number; readonly max?: number } | false;
}
