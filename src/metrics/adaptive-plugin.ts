/**
 * @module Adaptive configuration as a run plugin (`sluice run --adaptive`,
 * `runPipeline(p, { plugins: [adaptive()] })`): the controller of
 * `adaptive.ts` takes the settings the stages offered (and the source's chunk
 * size), watches the run's live figures on the bus and publishes each change
 * as a `config.changed` event with its reason.
 */
import type { RunPlugin } from "../pipeline/plugin.ts";
import { cpuCount } from "../runtime/process.ts";
import { AdaptiveController, type AdaptiveOptions, resolveAdaptive } from "./adaptive.ts";

/** The events the controller folds into its figures. */
const OBSERVED = [
  "run.started",
  "run.progress",
  "stage.progress",
  "resource.sample",
  "worker.stats",
] as const;

/**
 * Tunes the source chunk size and each parallelMap's worker count during the
 * run. Without options it takes the pipeline's `adaptive` settings, else the
 * defaults.
 *
 * @example
 * ```ts
 * await runPipeline(p, { plugins: [adaptive({ targetLatency: "50ms" })] });
 * ```
 */
export function adaptive(options?: AdaptiveOptions): RunPlugin {
  let stop: (() => void) | undefined;
  let sub: { unsubscribe(): void } | undefined;
  let settings: ReturnType<typeof resolveAdaptive> | undefined;
  return {
    name: "adaptive",
    prepare({ pipeline }) {
      settings = resolveAdaptive(options ?? pipeline.options.adaptive ?? true, cpuCount());
      // The source's chunks are re-cut only when the chunk size is tuned.
      return { rechunkSource: settings.chunkRows !== null };
    },
    start(run) {
      const controller = new AdaptiveController(settings ?? resolveAdaptive(true, cpuCount()), {
        runId: run.runId,
        clock: run.clock,
        emit: run.emit,
      });
      for (const k of run.knobs) controller.offer(k.stage, k.knob);
      sub = run.bus.subscribe((e) => controller.observe(e), [...OBSERVED]);
      stop = controller.start();
    },
    close() {
      stop?.();
      sub?.unsubscribe();
      return undefined;
    },
  };
}
