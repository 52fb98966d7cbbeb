/**
 * @module The run's timers, all on the injected clock: the live progress tick
 * (100 ms), the per-interval flush of stage meters, resource samples (1 s)
 * and the flag that makes a time-based checkpoint due. Each returns its stop
 * function; the runner stops them all when the run ends.
 */
import type { EventInput, EventOf } from "../../events/schema.ts";
import type { Clock } from "../../runtime/clock.ts";
import { eventLoopDelay, sampleResources } from "../../runtime/process.ts";
import type { BarrierState } from "./barriers.ts";

/** Emits a `run.progress` event every 100 ms from the live totals. */
export function progressTimer(
  clock: Clock,
  emit: (e: EventInput) => void,
  figures: () => Omit<EventOf<"run.progress">, "kind" | "ts" | "runId" | "pipeline">,
): () => void {
  return clock.every(100, () => emit({ kind: "run.progress", ...figures() }));
}

/** Emits a `resource.sample` every second: RSS, heap, CPU share and event-loop delay. */
export function resourceTimer(clock: Clock, emit: (e: EventInput) => void): () => void {
  const loop = eventLoopDelay();
  let last = clock.monotonic();
  sampleResources();
  const stop = clock.every(1000, () => {
    const s = sampleResources();
    const now = clock.monotonic();
    emit({
      kind: "resource.sample",
      rssBytes: s.rssBytes,
      heapUsedBytes: s.heapUsedBytes,
      cpuPercent: (s.cpuMs / Math.max(1, now - last)) * 100,
      eventLoopDelayMs: loop.p99Ms(),
    });
    loop.reset();
    last = now;
  });
  return () => {
    stop();
    loop.stop();
  };
}

/**
 * Time-based checkpoints: a timer (a tenth of the interval, 1-100 ms) raises
 * a flag the source checks per chunk, instead of reading the clock per chunk
 * (a read costs 100-200 ns on some machines).
 */
export function checkpointTimer(clock: Clock, state: BarrierState, everyMs: number): () => void {
  if (!Number.isFinite(everyMs)) return () => {};
  return clock.every(Math.min(100, Math.max(1, everyMs / 10)), () => {
    if (clock.monotonic() - state.lastCheckpointAt >= everyMs) state.checkpointDue = true;
  });
}
