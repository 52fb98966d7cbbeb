/**
 * @module Recording a checkpoint (DESIGN §3): after the sink committed at a
 * barrier, the checkpoint event carries the source offset, each operator's
 * snapshot, the dead-letter file's committed length, the sink's commit token,
 * the side outputs' tokens (`$sides`) and every stage's totals. The plugins' `checkpoint` hooks make it durable
 * (the journal appends and fsyncs) while the bus holds every other event, so
 * consumers see the checkpoint and what followed in the journal's order.
 */
import type { EventBus } from "../../events/bus.ts";
import type { EventOf } from "../../events/schema.ts";
import type { Barrier } from "../chunk.ts";
import type { RunPlugin } from "../plugin.ts";
import type { CommitToken } from "../types.ts";
import type { DeadLetterFile } from "./dead-letter.ts";
import type { StageTotals } from "./meter.ts";
import type { RunMeters } from "./run-meters.ts";

export function checkpointEvent(
  b: Barrier,
  at: { readonly ts: number; readonly runId: string; readonly pipeline: string },
  token: CommitToken,
  meters: RunMeters,
  /** The source's totals as the barrier left it. */
  atSource: StageTotals,
  deadLetters: DeadLetterFile,
  final: boolean,
  /** Each side output's commit token and rows (`SideOutputs.commit`). */
  sides?: Record<string, unknown>,
): EventOf<"checkpoint"> {
  const t = meters.totals();
  return {
    kind: "checkpoint",
    ...at,
    id: b.id,
    sourceOffset: b.offset,
    rowsIn: atSource.rowsOut,
    operatorState: {
      ...b.snapshots,
      $deadLetter: { bytes: deadLetters.bytes, count: deadLetters.count, lines: deadLetters.lines },
      ...(sides ? { $sides: sides } : {}),
      ...(final ? { $final: true } : {}),
    },
    sinkToken: token,
    stageTotals: meters.all().map((all) => {
      const m = all.stage === "source" ? atSource : all;
      return {
        stage: m.stage,
        rowsIn: m.rowsIn,
        rowsOut: m.rowsOut,
        filtered: m.filtered,
        deadLettered: m.deadLettered,
        ...(m.sideOutput ? { sideOutput: m.sideOutput } : {}),
      };
    }),
    rowsOut: t.rowsOut,
    filtered: t.filtered,
    deadLettered: t.dead,
  };
}

/** Hands the checkpoint to each plugin in order, holding the bus; then publishes it first. */
export async function recordCheckpoint(
  bus: EventBus,
  plugins: readonly RunPlugin[],
  event: EventOf<"checkpoint">,
): Promise<void> {
  const release = bus.hold();
  try {
    for (const plugin of plugins) await plugin.checkpoint?.(event);
  } catch (e) {
    release();
    throw e;
  }
  release(event);
}
