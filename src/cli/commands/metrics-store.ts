/**
 * @module The metrics store for `sluice run` (DESIGN §4: every run's events
 * land in DuckDB with no configuration). `SLUICE_METRICS=off` turns it off.
 *
 * The store lives in its own thread (`metrics-store-thread.ts`): loading
 * DuckDB, opening the file, re-ingesting journals, every flush and the final
 * checkpoint cost the pipeline's thread nothing. Here a bus subscriber only
 * collects the run's events and relays them in batches (a structured clone of
 * a few hundred small objects a few times a second); the thread writes them
 * in the order they were published. Measured with `npm run
 * bench:metrics-overhead`, against the store on the pipeline's thread.
 *
 * The thread starts at the run's first progress tick, not before it, so
 * loading DuckDB does not compete with resuming for the CPU; events published
 * until then are kept and relayed first. Before taking them, the thread
 * re-ingests the journals of this pipeline's unfinished runs, which is
 * idempotent by (run, seq): events journaled but not yet in DuckDB when a run
 * was killed are loaded now, so nothing is lost. The run being resumed is
 * read only up to where its journal ended when it was reopened
 * (`ResumeInfo.journalEnd`); what this process appends arrives live. A new
 * run's own journal is not read.
 *
 * Alert rules are evaluated here, on the bus, from the first event (they read
 * live figures, never DuckDB); the thread sends back each run's baseline
 * throughput for the deviation rule.
 */
import type { EventBus } from "../../events/bus.ts";
import type { SluiceEvent } from "../../events/schema.ts";
import type { ResumeInfo } from "../../journal/run-journal.ts";
import { attachAlerts } from "../../metrics/alerts.ts";
import { metricsEnabled } from "../../metrics/enabled.ts";
import { describeError } from "../../pipeline/errors.ts";
import { stderr } from "../../runtime/process.ts";
import { startThread, type Thread } from "../../runtime/thread.ts";
import type { FromStoreThread, StoreThreadConfig, ToStoreThread } from "./metrics-store-thread.ts";

/**
 * How often the store thread writes a run's events to DuckDB. Nothing live
 * waits for it: progress, alerts and the API's series of a running run come
 * from the bus, and the journal has every event if the process dies.
 */
const RUN_FLUSH_MS = 3000;

/** Events are relayed to the thread once this many are collected, or at the next progress tick. */
const RELAY_EVENTS = 2000;

/** Events kept before the thread starts; beyond this the run's metrics come from its journal on the next start. */
const MAX_BACKLOG = 1_000_000;

export interface RunStore {
  /** Give `runJournaled` this: it says which run is resumed and where its old journal ends. */
  onResume(info: ResumeInfo): void;
  /** Relays the remaining events, waits for the thread to write them and close the store, and ends it. */
  close(): Promise<void>;
}

export function startRunStore(
  pipeline: string,
  bus: EventBus,
  home: string | undefined,
  quiet: boolean,
): RunStore | undefined {
  if (!metricsEnabled()) return undefined;
  const warn = (what: string, message: string) => {
    if (!quiet) stderr.write(`sluice: warning: ${what}: ${message}\n`);
  };
  // Each run is evaluated with its pipeline's own rules (the `alerts` option, on its run.started).
  const alerts = attachAlerts(bus);
  let pending: SluiceEvent[] = [];
  let lost = false;
  let runId: string | undefined;
  let resumed: ResumeInfo | undefined;
  let thread: Thread | undefined;
  let closed: Promise<void> | undefined;
  let finish: ((error?: string) => void) | undefined;

  const post = (m: ToStoreThread) => thread?.post(m);
  const relay = () => {
    if (!thread || pending.length === 0) return;
    const events = pending;
    pending = [];
    post({ t: "events", events });
  };
  const start = () => {
    if (thread) return;
    const config: StoreThreadConfig = {
      home,
      pipeline,
      runId,
      resumed: resumed ? { runId: resumed.runId, journalEnd: resumed.journalEnd } : undefined,
      flushIntervalMs: RUN_FLUSH_MS,
    };
    const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
    try {
      thread = startThread(new URL(`./metrics-store-thread.${ext}`, import.meta.url), config);
    } catch (e) {
      lost = true;
      pending = [];
      warn("this run's metrics are not recorded", describeError(e));
      return;
    }
    closed = new Promise<void>((resolve) => {
      finish = (error) => {
        finish = undefined;
        if (error) warn("metrics store", error);
        resolve();
      };
    });
    thread.onMessage((raw) => {
      const m = raw as FromStoreThread;
      if (m.t === "warn") warn(m.what, m.message);
      else if (m.t === "baseline") alerts.engine.setBaseline(m.runId, m.rowsPerS);
      else finish?.(m.error);
    });
    thread.onExit((code, error) => {
      finish?.(`the store thread stopped (exit ${code}${error ? `: ${describeError(error)}` : ""})`);
    });
  };

  const sub = bus.subscribe((e) => {
    runId ??= e.runId;
    if (lost) return;
    if (!thread && pending.length >= MAX_BACKLOG) {
      lost = true;
      pending = [];
      warn("this run's live metrics are not recorded", "the metrics store took too long to open");
      return;
    }
    pending.push(e);
    if (e.kind === "run.progress") {
      start();
      relay();
    } else if (thread && pending.length >= RELAY_EVENTS) relay();
  });

  return {
    onResume(info) {
      resumed = info;
      runId ??= info.runId;
    },
    async close() {
      sub.unsubscribe();
      alerts.unsubscribe();
      if (!lost) start();
      if (!thread) return;
      relay();
      post({ t: "close" });
      await closed;
      await thread.terminate();
    },
  };
}
