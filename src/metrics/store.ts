/**
 * @module The metrics store: every run's events in one embedded DuckDB file,
 * `<home>/metrics.duckdb` (DESIGN §4). One writer owns the file: the process
 * running pipelines opens it for writing, subscribes the store to its bus and
 * serves queries through the same instance; other processes open it read-only
 * when nothing writes. Within a process, the same file is opened once and
 * shared, so a second DuckDB instance can never write it concurrently.
 *
 * Writes are batched off the publish path (see `internal/writer.ts`); reads go
 * through views and macros (see `internal/schema.ts` and docs/metrics.md);
 * user SQL goes through the read-only guard (`internal/guard.ts`).
 */

import type { Connection, QueryResult, SqlParams } from "../duckdb/client.ts";
import type { EventBus, Subscription } from "../events/bus.ts";
import type { SluiceEvent } from "../events/schema.ts";
import { stateHome } from "../pipeline/run.ts";
import { type Clock, systemClock } from "../runtime/clock.ts";
import { paths } from "../runtime/fs.ts";
import { type AlertConfig, type AlertsHandle, resolveAlertConfig } from "./alerts.ts";
import type { BenchResult } from "./baselines.ts";
import { MetricsConfigError, MetricsStateError, MetricsWriteError } from "./errors.ts";
import { type AttachOptions, attachStore } from "./internal/attach.ts";
import { GuardedQuery, type UserQueryOptions } from "./internal/guard.ts";
import {
  type IngestEvent,
  type IngestOptions,
  type IngestResult,
  type IngestSource,
  ingest,
} from "./internal/ingest.ts";
import {
  checkSchema,
  insertBenchResult,
  type PruneResult,
  prepareSchema,
  pruneRuns,
} from "./internal/maintenance.ts";
import { Mutex } from "./internal/mutex.ts";
import { openShared, releaseShared, type Shared } from "./internal/registry.ts";
import { type HighWaterMark, MetricsWriter, type WriterStats } from "./internal/writer.ts";
import type { LiveFigures } from "./projection.ts";
import { MetricsReports } from "./store-reports.ts";

export type { AttachOptions } from "./internal/attach.ts";
export type { UserQueryOptions } from "./internal/guard.ts";
export type { IngestEvent, IngestOptions, IngestResult } from "./internal/ingest.ts";
export type { PruneResult } from "./internal/maintenance.ts";
export type { HighWaterMark, WriterStats } from "./internal/writer.ts";

export interface MetricsStoreOptions {
  /** Open for reading only (fails with `MetricsLockedError` while another process writes). */
  readonly readOnly?: boolean;
  /** The file; default `<home>/metrics.duckdb`. */
  readonly path?: string;
  readonly clock?: Clock;
  /** Flush buffered events this often (default 1000 ms). */
  readonly flushIntervalMs?: number;
  /** … or as soon as this many are buffered (default 50 000). */
  readonly flushEvents?: number;
  /** Beyond this many buffered events new ones are dropped and counted (default 500 000). */
  readonly maxBufferedEvents?: number;
  /** Called when a background flush fails (default: reported once on stderr). */
  readonly onError?: (error: MetricsWriteError) => void;
  /** Called once the file is closed (e.g. to remove a snapshot the store was opened on). */
  readonly afterClose?: () => Promise<void>;
}

/** `<home>/metrics.duckdb`, home as `stateHome()` resolves it. */
export function metricsPath(home?: string): string {
  return paths.join(stateHome(home), "metrics.duckdb");
}

export { metricsEnabled } from "./enabled.ts";

/**
 * Opens the metrics store of a state directory.
 *
 * @example
 * ```ts
 * const store = await openMetricsStore();          // <SLUICE_HOME or ./.sluice>/metrics.duckdb
 * const sub = store.attach(bus);                  // before runPipeline(p, { bus })
 * // … run …
 * sub.unsubscribe();
 * console.log(await store.summary(runId));
 * await store.close();
 * ```
 */
export async function openMetricsStore(
  home?: string,
  options: MetricsStoreOptions = {},
): Promise<MetricsStore> {
  const path = paths.resolve(options.path ?? metricsPath(home));
  const readOnly = options.readOnly === true;
  // Opened as a state directory's own store: `prune` catches it up on that directory's journals first.
  const stateDir = options.path === undefined ? stateHome(home) : undefined;
  return openShared(path, readOnly, (shared) =>
    MetricsStore.create(shared, path, readOnly, options, stateDir),
  );
}

/** The metrics store. All results are plain JSON-able objects. */
export class MetricsStore extends MetricsReports {
  readonly #shared: Shared;
  readonly #clock: Clock;
  readonly #options: MetricsStoreOptions;
  readonly #guard: GuardedQuery;
  readonly #writeConn: Connection | undefined;
  readonly #writer: MetricsWriter | undefined;
  readonly #writeLock = new Mutex();
  readonly #stopTimer: () => void;
  readonly #subscriptions = new Set<Subscription>();
  #alerts: AlertsHandle | undefined;
  /** The state directory whose store this is (undefined when opened on another `path`). */
  #stateDir: string | undefined;
  #flushScheduled = false;
  #ingesting = 0;
  #errorsReported = 0;

  private constructor(
    shared: Shared,
    path: string,
    readonly readOnly: boolean,
    options: MetricsStoreOptions,
    reader: Connection,
    user: Connection,
    writeConn?: Connection,
    writer?: MetricsWriter,
  ) {
    super(path, reader);
    this.#shared = shared;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#guard = new GuardedQuery(user, this.#clock);
    this.#writeConn = writeConn;
    this.#writer = writer;
    const every = options.flushIntervalMs ?? 1000;
    if (!(every > 0)) throw new MetricsConfigError("flushIntervalMs", `must be > 0, got ${every}`);
    this.#stopTimer = writer ? this.#clock.every(every, () => this.#background()) : () => {};
  }

  /** @internal Use `openMetricsStore`. */
  static async create(
    shared: Shared,
    path: string,
    readOnly: boolean,
    options: MetricsStoreOptions,
    stateDir?: string,
  ): Promise<MetricsStore> {
    const db = shared.db;
    if (readOnly) {
      const reader = await db.connect();
      await checkSchema(reader, path);
      return new MetricsStore(shared, path, true, options, reader, await db.connect());
    }
    const w = await db.connect();
    await prepareSchema(w, path);
    const writer = await MetricsWriter.open(w, options.maxBufferedEvents ?? 500_000);
    const store = new MetricsStore(
      shared,
      path,
      false,
      options,
      await db.connect(),
      await db.connect(),
      w,
      writer,
    );
    store.#stateDir = stateDir;
    shared.writer = store;
    return store;
  }

  /**
   * Subscribes the store to a bus: every durable event is buffered and
   * written within `flushIntervalMs`. Subscribe before the run starts. With
   * `alerts`, also evaluates alert rules on the bus (see `attachAlerts`).
   */
  attach(bus: EventBus, options: AttachOptions = {}): Subscription {
    const writer = this.#requireWriter("attach");
    const { subscription, alerts } = attachStore(
      { add: (e) => writer.add(e), added: () => this.#maybeFlushSoon(), baselines: (q) => this.baselines(q) },
      bus,
      options,
    );
    if (alerts) this.#alerts = alerts;
    const wrapped: Subscription = {
      unsubscribe: () => {
        subscription.unsubscribe();
        if (alerts && this.#alerts === alerts) this.#alerts = undefined;
        this.#subscriptions.delete(wrapped);
      },
    };
    this.#subscriptions.add(wrapped);
    return wrapped;
  }

  /** Buffers one event (what `attach` does per event). Returns false when skipped. */
  add(event: SluiceEvent): boolean {
    const ok = this.#requireWriter("add").add(event);
    if (ok) this.#maybeFlushSoon();
    return ok;
  }

  /**
   * Loads events (a journal tail after a crash) and writes them. Idempotent by
   * (run_id, seq): events at or below a run's high-water mark are skipped.
   * Events without a `seq` are numbered per run from `firstSeq`.
   */
  async ingest(
    events: Iterable<IngestEvent> | AsyncIterable<IngestEvent>,
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    return this.#ingest({ events }, options);
  }

  /**
   * `ingest` of events in arrays (a journal reader's batches): one await per
   * array instead of one per event.
   */
  ingestBatches(
    batches: AsyncIterable<readonly IngestEvent[]> | Iterable<readonly IngestEvent[]>,
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    return this.#ingest({ batches }, options);
  }

  async #ingest(source: IngestSource, options: IngestOptions): Promise<IngestResult> {
    const writer = this.#requireWriter("ingest");
    // Ingest flushes its own batches; the timer's flushes would only split them into more commits.
    this.#ingesting++;
    try {
      return await ingest(writer, () => this.flush(), source, options);
    } finally {
      this.#ingesting--;
    }
  }

  /** The alert rules in effect (the defaults when this store evaluates no alerts). */
  async rules(pipeline?: string): Promise<AlertConfig> {
    return this.#alerts?.engine.rules(pipeline) ?? resolveAlertConfig({});
  }

  /** Replaces the alert rules of the attached alert engine (validated by `AlertConfigSchema`). */
  async setRules(rules: unknown): Promise<AlertConfig> {
    if (!this.#alerts) {
      throw new MetricsStateError(
        "No alert rules are evaluated here: attach the store to a bus with { alerts }.",
      );
    }
    return this.#alerts.engine.setRules(rules);
  }

  /** Resolves an open alert by hand (published as `alert.resolved` with `manual: true`). */
  async resolveAlert(alertId: string): Promise<boolean> {
    return this.#alerts?.engine.resolve(alertId, this.#clock.now()) ?? false;
  }

  /** Live figures of a running run (what the alert rules and adaptive configuration read). */
  liveFigures(runId: string): LiveFigures | undefined {
    return this.#alerts?.engine.figures(runId);
  }

  /** The last event stored for a run (undefined if none): where a journal replay can start. */
  highWaterMark(runId: string): HighWaterMark | undefined {
    return this.#writer?.mark(runId);
  }

  highWaterMarks(): Readonly<Record<string, HighWaterMark>> {
    return this.#writer?.marks() ?? {};
  }

  /** Writes everything buffered. */
  flush(): Promise<void> {
    const writer = this.#writer;
    if (!writer || this.closed) return Promise.resolve();
    return this.#writeLock.run(async () => {
      this.#flushScheduled = false;
      const rows = writer.stats().buffered;
      try {
        await writer.flush();
      } catch (e) {
        throw new MetricsWriteError(this.path, rows, e);
      }
    });
  }

  /**
   * Runs one read-only SELECT (user SQL) and returns its rows as JSON-able
   * objects. Named parameters are `$name`, positional `?`.
   */
  query(sql: string, params?: SqlParams, options?: UserQueryOptions): Promise<QueryResult> {
    this.requireOpen();
    return this.#guard.run(sql, params, options);
  }

  /**
   * Runs `fn` on the write connection, under the write lock, after buffered
   * events are flushed (the journal catch-up keeps its marks this way).
   */
  async withWriter<T>(what: string, fn: (conn: Connection) => Promise<T>): Promise<T> {
    const conn = this.#writeConn;
    if (!conn) throw this.#readOnlyError(what);
    await this.flush();
    return this.#writeLock.run(() => fn(conn));
  }

  /** Records one benchmark scenario's results (baselines and regressions read them). */
  async recordBenchResult(result: BenchResult): Promise<void> {
    const conn = this.#writeConn;
    if (!conn) throw this.#readOnlyError("recordBenchResult");
    await this.#writeLock.run(() => insertBenchResult(conn, result));
  }

  /**
   * Deletes runs whose last event is older than `olderThanMs` (and older
   * benchmark results). A state directory's store (`openMetricsStore(home)`)
   * is first caught up on its journals, so that each run is judged by its
   * newest event, not by what the store had read of it.
   */
  async prune(olderThanMs: number): Promise<PruneResult> {
    const conn = this.#writeConn;
    const writer = this.#writer;
    if (!conn || !writer) throw this.#readOnlyError("prune");
    if (!(olderThanMs >= 0)) throw new MetricsConfigError("olderThanMs", `must be ≥ 0, got ${olderThanMs}`);
    if (this.#stateDir !== undefined) {
      const { catchUp } = await import("./catch-up.ts");
      await catchUp(this, this.#stateDir);
    }
    await this.flush();
    const cutoffUs = Math.round((this.#clock.now() - olderThanMs) * 1000);
    return this.#writeLock.run(async () => {
      const result = await pruneRuns(conn, cutoffUs);
      writer.forget(result.runs);
      await conn.run("CHECKPOINT");
      return result;
    });
  }

  stats(): WriterStats & { readonly path: string; readonly readOnly: boolean } {
    const w = this.#writer?.stats() ?? {
      buffered: 0,
      written: 0,
      skipped: 0,
      dropped: 0,
      flushes: 0,
      failedFlushes: 0,
      openRollups: 0,
    };
    return { ...w, path: this.path, readOnly: this.readOnly };
  }

  /** Flushes, detaches from buses and releases the file (when no other handle in this process uses it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.#stopTimer();
    for (const s of [...this.#subscriptions]) s.unsubscribe();
    let failure: unknown;
    if (this.#writer) {
      await this.flush().catch((e) => {
        failure = e;
      });
      await this.#writeLock.run(() => this.#writeConn!.run("CHECKPOINT")).catch(() => {});
    }
    await this.closeReader();
    await this.#guard.close();
    this.#writer?.close();
    this.#writeConn?.close();
    releaseShared(this.path, this.#shared, this);
    await this.#options.afterClose?.().catch(() => {});
    if (failure) throw failure;
  }

  #maybeFlushSoon(): void {
    if (this.#flushScheduled || !this.#writer) return;
    if (this.#writer.buffered < (this.#options.flushEvents ?? 50_000)) return;
    this.#flushScheduled = true;
    queueMicrotask(() => this.#background());
  }

  #background(): void {
    if (this.closed || this.#ingesting > 0) return;
    this.flush().catch((e: MetricsWriteError) => {
      if (this.#options.onError) this.#options.onError(e);
      else if (this.#errorsReported++ < 3) console.error(`sluice: ${e.message}`);
    });
  }

  #requireWriter(what: string): MetricsWriter {
    this.requireOpen();
    if (!this.#writer) throw this.#readOnlyError(what);
    return this.#writer;
  }

  #readOnlyError(what: string): MetricsStateError {
    return new MetricsStateError(
      `${what}() needs the metrics store open for writing, but ${this.path} was opened read-only.`,
    );
  }
}
