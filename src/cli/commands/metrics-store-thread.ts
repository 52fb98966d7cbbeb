/**
 * @module Entry point of the metrics-store thread of `sluice run` (started by
 * `metrics-store.ts`). It opens the DuckDB store, re-ingests the journals of
 * the pipeline's unfinished runs, then takes the run's events in the order
 * the main thread relays them and writes them in batches. Everything DuckDB
 * costs (loading the native module, opening the file, every flush and the
 * final checkpoint) happens on this thread, not on the pipeline's.
 *
 * When it sees a `run.started`, it looks up the run's baseline throughput and
 * sends it back for the alert engine, which runs on the main thread (alerts
 * are events on the run's bus and journal).
 */
import type { SluiceEvent } from "../../events/schema.ts";
import type { JournalPosition } from "../../journal/journal.ts";
import { listRuns, readRunEvents } from "../../journal/runs.ts";
import { type MetricsStore, openMetricsStore } from "../../metrics/store.ts";
import { describeError } from "../../pipeline/errors.ts";
import { stateHome } from "../../pipeline/run.ts";
import { threadChannel } from "../../runtime/thread.ts";

export interface StoreThreadConfig {
  readonly home: string | undefined;
  readonly pipeline: string;
  /** The run this process runs (undefined when it ended before publishing anything). */
  readonly runId: string | undefined;
  /** Set when this process resumed a run: which, and where its old journal ended. */
  readonly resumed: { readonly runId: string; readonly journalEnd: JournalPosition } | undefined;
  readonly flushIntervalMs: number;
}

export type ToStoreThread =
  | { readonly t: "events"; readonly events: readonly SluiceEvent[] }
  | { readonly t: "close" };

export type FromStoreThread =
  | { readonly t: "warn"; readonly what: string; readonly message: string }
  | { readonly t: "baseline"; readonly runId: string; readonly rowsPerS: number | undefined }
  | { readonly t: "closed"; readonly error?: string };

const channel = threadChannel();
if (channel) {
  const config = channel.data as StoreThreadConfig;
  const post = (m: FromStoreThread) => channel.post(m);
  const warn = (what: string, e: unknown) => post({ t: "warn", what, message: describeError(e) });

  const opened = (async (): Promise<MetricsStore | undefined> => {
    let store: MetricsStore;
    try {
      store = await openMetricsStore(config.home, { flushIntervalMs: config.flushIntervalMs });
    } catch (e) {
      warn("this run's metrics are not recorded", e);
      return undefined;
    }
    try {
      const { resumed, runId } = config;
      for (const run of await listRuns(stateHome(config.home), config.pipeline)) {
        if (run.status === "completed" && store.highWaterMark(run.runId)) continue;
        // This run's own journal reaches the store live (a resumed run's up to where it was reopened).
        if (run.runId === runId && resumed?.runId !== runId) continue;
        const before = run.runId === resumed?.runId ? resumed.journalEnd : undefined;
        await store.ingest(eventsOf(readRunEvents(run.runDir, { before })));
      }
    } catch (e) {
      warn("could not re-ingest earlier journals", e);
    }
    return store;
  })();

  const baseline = (store: MetricsStore, e: SluiceEvent) => {
    if (e.kind !== "run.started") return;
    store
      .baselines({
        pipeline: e.pipeline,
        runtime: e.runtime,
        host: e.host,
        definitionHash: e.definitionHash,
        excludeRunId: e.runId,
      })
      .then(
        (b) => post({ t: "baseline", runId: e.runId, rowsPerS: b?.metrics.rows_per_s?.median ?? undefined }),
        () => {},
      );
  };

  // Messages are handled strictly in arrival order, after the store opened.
  let chain = opened.then(() => {});
  channel.onMessage((raw) => {
    const m = raw as ToStoreThread;
    chain = chain.then(async () => {
      const store = await opened;
      if (m.t === "events") {
        if (!store) return;
        for (const e of m.events) {
          store.add(e);
          baseline(store, e);
        }
      } else {
        let error: string | undefined;
        await store?.close().catch((e: unknown) => {
          error = describeError(e);
        });
        post({ t: "closed", error });
      }
    });
  });
}

async function* eventsOf<T extends { event: E }, E>(records: AsyncIterable<T>): AsyncGenerator<E> {
  for await (const r of records) yield r.event;
}
