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

/**
 * Each stage's totals as each barrier passed it. Stages work on while a
 * barrier travels to the sink (the source reads ahead), so totals read when
 * the sink commits count records after the barrier, which a resume from that
 * checkpoint counts again. A chunk stage's totals are taken as the barrier
 * leaves it; a stream stage's rows in as the barrier enters it (it takes in
 * records after the barrier while it finishes those before), the rest as it
 * leaves. Dead letters come from the dead-letter file (`checkpointEvent`).
 */
export class StageCuts {
  readonly #left = new Map<string, Map<number, { totals: StageTotals; sideLettered: number }>>();
  readonly #entered = new Map<string, Map<number, number>>();

  /** Barrier `id` enters the stream stage `stage`, which has taken in `rowsIn` rows. */
  enter(stage: string, id: number, rowsIn: number): void {
    at(this.#entered, stage).set(id, rowsIn);
  }

  /**
   * Barrier `id` leaves `stage`, whose totals are `totals`; `sideLettered`: how many of its side
   * outputs' records their sinks have dead-lettered so far (`SideOutputs.lettered`).
   */
  leave(stage: string, id: number, totals: StageTotals, sideLettered = 0): void {
    at(this.#left, stage).set(id, { totals: { ...totals }, sideLettered });
  }

  /**
   * The totals of `stage` at barrier `id` (else `live`); forgets that barrier
   * and those before. `sideLettered`: how many of its side outputs' records
   * their sinks have dead-lettered so far, this checkpoint's commit included.
   * Those lettered since the barrier left the stage (by the commits of this
   * checkpoint and of earlier ones the stage ran ahead of) were counted as
   * side output in its cut; they are dead letters now.
   */
  take(stage: string, id: number, live: StageTotals, sideLettered = 0): StageTotals {
    const left = this.#left.get(stage);
    const entered = this.#entered.get(stage);
    const cut = left?.get(id);
    const t = cut
      ? { ...cut.totals, sideOutput: cut.totals.sideOutput - (sideLettered - cut.sideLettered) }
      : { ...live };
    const rowsIn = entered?.get(id);
    if (rowsIn !== undefined) t.rowsIn = rowsIn;
    for (const m of [left, entered]) if (m) for (const k of m.keys()) if (k <= id) m.delete(k);
    return t;
  }
}

function at<V>(m: Map<string, Map<number, V>>, stage: string): Map<number, V> {
  let byId = m.get(stage);
  if (!byId) {
    byId = new Map();
    m.set(stage, byId);
  }
  return byId;
}

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
  sides: Record<string, unknown> | undefined,
  cuts: StageCuts,
  /** Per stage, its side outputs' records their sinks have dead-lettered so far (`SideOutputs.lettered`). */
  sideLettered: (stage: string) => number,
): EventOf<"checkpoint"> {
  // Each stage as the barrier passed it; its dead letters those the file holds (the
  // letters written since the barrier passed, by a side sink committing, included).
  const all = meters.all();
  const stages = all.map((live, i) => {
    if (i === all.length - 1) return live; // the sink commits what it took up to the barrier
    const t = i === 0 ? { ...atSource } : cuts.take(live.stage, b.id, live, sideLettered(live.stage));
    t.deadLettered = live.deadLettered - deadLetters.unwritten(live.stage);
    return t;
  });
  const sink = stages[stages.length - 1];
  let filtered = 0;
  let dead = 0;
  for (const m of stages) {
    if (m !== sink) filtered += m.filtered;
    dead += m.deadLettered;
  }
  return {
    kind: "checkpoint",
    ...at,
    id: b.id,
    sourceOffset: b.offset,
    // As `RunMeters.totals` folds them: the records read, the source's dead letters included.
    rowsIn: stages[0].rowsOut + stages[0].deadLettered,
    operatorState: {
      ...b.snapshots,
      $deadLetter: { bytes: deadLetters.bytes, count: deadLetters.count, lines: deadLetters.lines },
      ...(sides ? { $sides: sides } : {}),
      ...(final ? { $final: true } : {}),
    },
    sinkToken: token,
    stageTotals: stages.map((m) => ({
      stage: m.stage,
      rowsIn: m.rowsIn,
      rowsOut: m.rowsOut,
      filtered: m.filtered,
      deadLettered: m.deadLettered,
      ...(m.sideOutput ? { sideOutput: m.sideOutput } : {}),
    })),
    // As `RunMeters.totals` folds them: a record the sink dead-letters is not out.
    rowsOut: sink.rowsIn - sink.deadLettered,
    filtered,
    deadLettered: dead,
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
