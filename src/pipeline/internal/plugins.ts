/**
 * @module The runner's side of the plugin lifecycle (`../plugin.ts`):
 * preparing the plugins in order (closing those already prepared when one
 * refuses) and closing them in reverse order with the run's summary.
 */
import type { EventBus } from "../../events/bus.ts";
import type { Clock } from "../../runtime/clock.ts";
import { paths } from "../../runtime/fs.ts";
import type { Pipeline } from "../pipeline.ts";
import type { Prepared, RunPlugin } from "../plugin.ts";
import type { RunSummary } from "../run.ts";
import { toSluiceError } from "./stages.ts";

/** Runs each plugin's `prepare` in order; on a failure closes those that prepared and rethrows. */
export async function preparePlugins(
  plugins: readonly RunPlugin[],
  p: Pipeline<unknown>,
  home: string,
  clock: Clock,
  bus: EventBus,
  runId: string | undefined,
): Promise<Prepared & { signals: AbortSignal[] }> {
  let picked: Prepared = {};
  const signals: AbortSignal[] = [];
  for (let i = 0; i < plugins.length; i++) {
    try {
      const r = await plugins[i].prepare?.({ pipeline: p, home, clock, bus, runId: picked.runId ?? runId });
      if (!r) continue;
      if (r.signal) signals.push(r.signal);
      picked = {
        runId: picked.runId ?? r.runId,
        resume: picked.resume ?? r.resume,
        rechunkSource: picked.rechunkSource || r.rechunkSource,
      };
    } catch (e) {
      const aborted = abortedSummary(p, picked.runId ?? runId ?? "", home, e);
      for (const q of plugins.slice(0, i).reverse())
        await Promise.resolve(q.close?.(aborted)).catch(() => {});
      throw e;
    }
  }
  return { ...picked, signals };
}

function abortedSummary(p: Pipeline<unknown>, runId: string, home: string, e: unknown): RunSummary {
  return {
    runId,
    pipeline: p.name,
    status: "failed",
    rowsIn: 0,
    rowsOut: 0,
    filtered: 0,
    deadLettered: 0,
    sideOutput: 0,
    bytes: 0,
    durationMs: 0,
    rowsPerSecond: 0,
    checkpoints: 0,
    runDir: paths.join(home, p.name, runId),
    stages: [],
    error: toSluiceError(e, "pipeline"),
  };
}

/** Closes the plugins in reverse order; a plugin may change the summary, and a failing one fails the run. */
export async function closePlugins(plugins: readonly RunPlugin[], summary: RunSummary): Promise<RunSummary> {
  let s = summary;
  for (const plugin of [...plugins].reverse()) {
    try {
      s = (await plugin.close?.(s)) ?? s;
    } catch (e) {
      if (!s.error) s = { ...s, status: "failed", error: toSluiceError(e, `plugin ${plugin.name}`) };
    }
  }
  return s;
}
