/**
 * @module The metrics store for `sluice run` (DESIGN §4: every run's events
 * land in DuckDB with no configuration). Before attaching, the journals of
 * this pipeline's unfinished runs are re-ingested, which is idempotent by
 * (run, seq): events journaled but not yet in DuckDB when a run was killed
 * are loaded now, so nothing is lost. `SLUICE_METRICS=off` turns it off.
 */
import type { EventBus } from "../../events/bus.ts";
import { listRuns, readRunEvents } from "../../journal/runs.ts";
import { type MetricsStore, metricsEnabled, openMetricsStore } from "../../metrics/store.ts";
import { describeError } from "../../pipeline/errors.ts";
import { stateHome } from "../../pipeline/run.ts";
import { stderr } from "../../runtime/process.ts";

export async function openRunStore(
  pipeline: string,
  bus: EventBus,
  home: string | undefined,
  quiet: boolean,
): Promise<MetricsStore | undefined> {
  if (!metricsEnabled()) return undefined;
  let store: MetricsStore;
  try {
    store = await openMetricsStore(home);
  } catch (e) {
    if (!quiet) stderr.write(`sluice: warning: this run's metrics are not recorded: ${describeError(e)}\n`);
    return undefined;
  }
  try {
    for (const run of await listRuns(stateHome(home), pipeline)) {
      if (run.status === "completed" && store.highWaterMark(run.runId)) continue;
      await store.ingest(eventsOf(readRunEvents(run.runDir)));
    }
  } catch (e) {
    if (!quiet) stderr.write(`sluice: warning: could not re-ingest earlier journals: ${describeError(e)}\n`);
  }
  store.attach(bus, { alerts: true });
  return store;
}

async function* eventsOf<T extends { event: E }, E>(records: AsyncIterable<T>): AsyncGenerator<E> {
  for await (const r of records) yield r.event;
}
