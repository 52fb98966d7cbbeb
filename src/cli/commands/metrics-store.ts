/**
 * @module The metrics store for `sluice run` (DESIGN §4: every run's events
 * land in DuckDB with no configuration). `SLUICE_METRICS=off` turns it off.
 *
 * The store opens beside the run, not before it: loading DuckDB and opening
 * the file took 0.3–0.5 s, which a resumed run would otherwise spend before
 * its first new record; it starts at the run's first progress tick. Until the store is ready, a subscriber keeps the
 * run's events in order; the store then takes them as a backlog and attaches
 * to the bus in the same synchronous step, so none is missed or taken twice.
 *
 * Before attaching, the journals of this pipeline's unfinished runs are
 * re-ingested, which is idempotent by (run, seq): events journaled but not
 * yet in DuckDB when a run was killed are loaded now, so nothing is lost. The
 * run being resumed is read only up to where its journal ended when it was
 * reopened (`ResumeInfo.journalEnd`); what this process appends reaches the
 * store live. A new run's own journal is not read.
 */
import type { EventBus } from "../../events/bus.ts";
import type { SluiceEvent } from "../../events/schema.ts";
import type { ResumeInfo } from "../../journal/run-journal.ts";
import { listRuns, readRunEvents } from "../../journal/runs.ts";
import { metricsEnabled } from "../../metrics/enabled.ts";
import type { MetricsStore } from "../../metrics/store.ts";
import { describeError } from "../../pipeline/errors.ts";
import { stateHome } from "../../pipeline/run.ts";
import { stderr } from "../../runtime/process.ts";

/**
 * How often a run's events are written to DuckDB. Each write has a fixed cost
 * on the pipeline's thread (a transaction, the appender, the minute rollups);
 * every 3 s rather than every 1 s keeps it under 1% of a busy run. Nothing
 * live waits for it: progress, alerts and the API's series of a running run
 * come from the bus, and the journal has every event if the process dies.
 */
const RUN_FLUSH_MS = 3000;

/** Events kept while the store opens; beyond this the run's metrics come from its journal on the next start. */
const MAX_BACKLOG = 1_000_000;

export interface RunStore {
  /** Give `runJournaled` this: it says which run is resumed and where its old journal ends. */
  onResume(info: ResumeInfo): void;
  /** Resolves once the store is open and attached (undefined: metrics are off or failed to open). */
  readonly ready: Promise<MetricsStore | undefined>;
  /** Waits for the store to attach (so every event of the run is taken), then closes it. */
  close(): Promise<void>;
}

export function startRunStore(
  pipeline: string,
  bus: EventBus,
  home: string | undefined,
  quiet: boolean,
): RunStore | undefined {
  if (!metricsEnabled()) return undefined;
  const warn = (what: string, e: unknown) => {
    if (!quiet) stderr.write(`sluice: warning: ${what}: ${describeError(e)}\n`);
  };
  let backlog: SluiceEvent[] | undefined = [];
  let resumed: ResumeInfo | undefined;
  let current: ((runId: string | undefined) => void) | undefined;
  const currentRun = new Promise<string | undefined>((resolve) => {
    current = resolve;
  });
  // Opening starts at the run's first live progress tick (100 ms in), so
  // loading DuckDB does not compete with resuming for the CPU; or at close.
  let begin: (() => void) | undefined;
  const started = new Promise<void>((resolve) => {
    begin = resolve;
  });
  const buffer = bus.subscribe((e) => {
    current?.(e.runId);
    if (e.kind === "run.progress") begin?.();
    if (!backlog) return;
    if (backlog.length < MAX_BACKLOG) backlog.push(e);
    else {
      backlog = undefined;
      warn("this run's live metrics are not recorded", "the metrics store took too long to open");
    }
  });
  const ready = (async (): Promise<MetricsStore | undefined> => {
    let store: MetricsStore;
    await started;
    try {
      const { openMetricsStore } = await import("../../metrics/store.ts");
      store = await openMetricsStore(home, { flushIntervalMs: RUN_FLUSH_MS });
    } catch (e) {
      buffer.unsubscribe();
      warn("this run's metrics are not recorded", e);
      return undefined;
    }
    try {
      const runId = await currentRun;
      for (const run of await listRuns(stateHome(home), pipeline)) {
        if (run.status === "completed" && store.highWaterMark(run.runId)) continue;
        if (run.runId === runId && resumed?.runId !== runId) continue;
        const before = run.runId === resumed?.runId ? resumed.journalEnd : undefined;
        await store.ingest(eventsOf(readRunEvents(run.runDir, { before })));
      }
    } catch (e) {
      warn("could not re-ingest earlier journals", e);
    }
    buffer.unsubscribe();
    if (backlog) store.attach(bus, { alerts: true, backlog });
    backlog = undefined;
    return store;
  })();
  return {
    onResume(info) {
      resumed = info;
      current?.(info.runId);
    },
    ready,
    async close() {
      // A run that ended before publishing anything has no run id to wait for.
      current?.(undefined);
      begin?.();
      const store = await ready;
      await store?.close();
    },
  };
}

async function* eventsOf<T extends { event: E }, E>(records: AsyncIterable<T>): AsyncGenerator<E> {
  for await (const r of records) yield r.event;
}
