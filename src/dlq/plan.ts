/**
 * @module A redrive's plan: `<redrive run dir>/redrive.json`, written before
 * the redrive run starts. It names the run whose dead letters it re-runs, the
 * pipeline file and working directory to load the fixed pipeline from again
 * (`sluice resume` of a redrive), and the letters it takes, in order, as they
 * stood when it started. The plan index of a letter is the sequence number of
 * the chunk the redrive source gives it, which is how the redrive's own dead
 * letters point back at the letter they came from.
 */
import type { Letter } from "./letters.ts";

export const PLAN_FILE = "redrive.json";

export interface RedrivePlan {
  readonly version: 1;
  /** The run whose dead letters are redriven. */
  readonly of: { readonly pipeline: string; readonly runId: string };
  /** The pipeline file of the fixed pipeline (absolute), when started from the CLI. */
  readonly file?: string;
  readonly cwd: string;
  readonly createdAt: number;
  /** The filters the letters were chosen by, for the record. */
  readonly filters: Readonly<Record<string, string | number | undefined>>;
  /** The letters taken (index in the run's dead-letter file; the failure as it stood). */
  readonly letters: ReadonlyArray<Letter>;
}
