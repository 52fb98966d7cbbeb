/**
 * @module The context each stage of a run gets: the run's context plus its
 * own name and index, its meter's report functions, the knob registry,
 * `deadLetter`, which counts the record on the stage's meter, appends it to
 * the dead-letter file (its raw input bounded) and publishes the event, and
 * `sideOutput`, which registers a side sink of the stage (`side-outputs.ts`).
 */
import type { EventBus } from "../../events/bus.ts";
import type { EventOf } from "../../events/schema.ts";
import { describeError } from "../errors.ts";
import type { OfferedKnob } from "../plugin.ts";
import type { DeadLetterInput, RunContext, StageContext } from "../types.ts";
import type { DeadLetterFile } from "./dead-letter.ts";
import type { StageMeter } from "./meter.ts";
import { boundRaw } from "./raw.ts";
import type { SideOutputs } from "./side-outputs.ts";

export interface StageContextDeps {
  readonly run: RunContext;
  readonly onError: StageContext["onError"];
  readonly bus: EventBus;
  readonly deadLetters: DeadLetterFile;
  readonly knobs: OfferedKnob[];
  readonly sides: SideOutputs;
}

export function stageContext(
  deps: StageContextDeps,
  stage: string,
  index: number,
  meter: StageMeter,
): StageContext {
  const { run, bus, deadLetters, knobs, sides } = deps;
  /** Counts the record on the stage's meter, files the letter (cut with `key`'s barriers) and publishes it. */
  const letter = (item: DeadLetterInput, key: string | undefined) => {
    meter.dead(1);
    const ev: EventOf<"dead.letter"> = {
      kind: "dead.letter",
      ts: run.clock.now(),
      runId: run.runId,
      pipeline: run.pipeline,
      stage: item.stage ?? stage,
      reason: item.reason,
      error: item.error === undefined ? undefined : describeError(item.error),
      attempts: item.attempts ?? 1,
      position: item.position ?? {},
      raw: boundRaw(item.raw, item.rawBytes),
      record: item.record,
    };
    deadLetters.add(ev, key);
    bus.publish(ev);
  };
  const ctx: StageContext = {
    ...run,
    stage,
    index,
    onError: deps.onError,
    reportBusy: (ms) => meter.busy(ms),
    reportChunk: (ms) => meter.latency(ms),
    reportCpu: (ms) => meter.cpu(ms),
    offerKnob: (knob) => knobs.push({ stage, knob }),
    deadLetter: (item: DeadLetterInput) => letter(item, stage),
    // A side sink letters records while their checkpoint commits: written with that checkpoint.
    sideOutput: (name, sink) => sides.register(ctx, meter, name, sink, (item) => letter(item, undefined)),
  };
  return ctx;
}
