/**
 * @module Alert evaluation as a run plugin: the rules of `alerts.ts` run on
 * the bus from the run's first event (they read live figures, never DuckDB)
 * and publish `alert.raised` / `alert.resolved` on it, so the journal keeps
 * them. The deviation-from-baseline rule compares with the median throughput
 * of the pipeline's comparable past runs, read from its per-pipeline summary
 * (`run-summaries.ts`) instead of the metrics store.
 */
import type { RunPlugin } from "../pipeline/plugin.ts";
import { definitionHash } from "../pipeline/run.ts";
import { runtimeName } from "../runtime/detect.ts";
import { host } from "../runtime/process.ts";
import type { AlertEngineOptions } from "./alerts.ts";
import { type AlertsHandle, attachAlerts } from "./alerts.ts";
import { baselineRowsPerS, knownReasons, readRunFigures } from "./run-summaries.ts";

export interface AlertsPlugin extends RunPlugin {
  /** The engine while a run is going (the HTTP API reads and changes rules through it). */
  readonly handle: () => AlertsHandle | undefined;
}

/**
 * Evaluates alert rules during the run: each pipeline's own rules (its
 * `alerts` option), else the defaults; a configuration given here wins.
 *
 * @example
 * ```ts
 * await runJournaled(p, { plugins: [alerts()] });
 * ```
 */
export function alerts(config?: AlertEngineOptions["config"]): AlertsPlugin {
  let handle: AlertsHandle | undefined;
  return {
    name: "alerts",
    handle: () => handle,
    async start(run) {
      handle = attachAlerts(run.bus, config);
      const past = await readRunFigures(run.home, run.pipeline.name);
      handle.engine.setKnownReasons(run.runId, knownReasons(past, run.runId));
      handle.engine.setBaseline(
        run.runId,
        baselineRowsPerS(past, {
          runtime: runtimeName,
          host: host(),
          definitionHash: definitionHash(run.pipeline),
          excludeRunId: run.runId,
        }),
      );
    },
    close() {
      handle?.unsubscribe();
      return undefined;
    },
  };
}
