/**
 * @module Resume (DESIGN §3): what a run restores from the checkpoint it
 * continues from — each operator's snapshot, each stage's counters and the
 * dead-letter file's committed length. The source seeks to the checkpoint's
 * offset itself (`resumeFrom`) and the sink reconciles from its token.
 */
import type { EventOf } from "../../events/schema.ts";
import type { StageHooks } from "../types.ts";
import type { DeadLetterFile } from "./dead-letter.ts";
import type { StageMeter } from "./meter.ts";

type Checkpoint = EventOf<"checkpoint">;

/** Truncates the dead-letter file to what the checkpoint counted. */
export async function restoreDeadLetters(file: DeadLetterFile, cp: Checkpoint): Promise<void> {
  const dl = cp.operatorState.$deadLetter as { bytes: number; count: number; lines?: number } | undefined;
  await file.restore(dl?.bytes ?? 0, dl?.count ?? 0, dl?.lines ?? 0);
}

/** Hands an operator its snapshot, when it has one in the checkpoint. */
export async function restoreOperator(
  impl: StageHooks<unknown>,
  cp: Checkpoint,
  stage: string,
): Promise<void> {
  if (impl.restore && cp.operatorState[stage] !== undefined) await impl.restore(cp.operatorState[stage]);
}

/** Restores every stage's cumulative counters (older checkpoints carry only the run's totals). */
export function restoreMeters(
  cp: Checkpoint,
  meters: readonly StageMeter[],
  source: StageMeter,
  sink: StageMeter,
): void {
  for (const t of cp.stageTotals) meters.find((m) => m.stage === t.stage)?.restore(t);
  source.restore(
    cp.stageTotals.find((t) => t.stage === "source") ?? { rowsIn: cp.rowsIn, rowsOut: cp.rowsIn },
  );
  sink.restore(cp.stageTotals.find((t) => t.stage === "sink") ?? { rowsIn: cp.rowsOut, rowsOut: cp.rowsOut });
}
