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

import {
  type Connection,
  type Database,
  openDuckDB,
  type QueryResult,
  type SqlParams,
} from "../duckdb/client.ts";
import type { EventBus, Subscription } from "../events/bus.ts";
import { durable, type SluiceEvent } from "../events/schema.ts";
import { stateHome } from "../pipeline/run.ts";
import { type Clock, systemClock } from "../runtime/clock.ts";
import { fs, paths } from "../runtime/fs.ts";
import { cpuCount } from "../runtime/process.ts";
import {
  type AlertConfig,
  type AlertEngineOptions,
  type AlertsHandle,
  attachAlerts,
  resolveAlertConfig,
} from "./alerts.ts";
import {
  type Baseline,
  type BaselineQuery,
  type BenchResult,
  computeBaseline,
  type RegressionOptions,
  type RegressionReport,
  runRegressions,
  scenarioRegressions,
} from "./baselines.ts";
import { type BottleneckOptions, type BottleneckReport, findBottlenecks } from "./bottlenecks.ts";
import {
  MetricsConfigError,
  MetricsLockedError,
  MetricsNotFoundError,
  MetricsSchemaError,
  MetricsStateError,
  MetricsWriteError,
} from "./errors.ts";
import { GuardedQuery, type UserQueryOptions } from "./internal/guard.ts";
import { Mutex } from "./internal/mutex.ts";
import { migrationDdl, RUN_TABLES, SCHEMA_VERSION, tableDdl, viewDdl } from "./internal/schema.ts";
import { type HighWaterMark, MetricsWriter, type WriterStats } from "./internal/writer.ts";
import type { LiveFigures } from "./projection.ts";
import { type Recommendation, type RecommendationOptions, recommend } from "./recommendations.ts";
import { type RunReport, runSummary } from "./summary.ts";
import { computeTrends, type Trend, type TrendQuery } from "./trends.ts";

export type { UserQueryOptions } from "./internal/guard.ts";
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
}

export interface AttachOptions {
  /**
   * Evaluate alert rules on the bus and publish `alert.raised`/`alert.resolved`
   * on it: `true` evaluates each run with its pipeline's own rules (the
   * `alerts` option its `run.started` carries), else the defaults; a
   * configuration for all pipelines, or per pipeline (a function), wins over
   * those. Off by default.
   */
  readonly alerts?: AlertEngineOptions["config"] | true;
  /**
   * Events the bus delivered before the store was attached (a subscriber
   * that buffered them while the store opened): taken first, in order, as if
   * they had arrived live.
   */
  readonly backlog?: readonly SluiceEvent[];
}

export interface IngestOptions {
  /**
   * Sequence number of the first event of each run in the iterable when
   * events carry none (default 1: the iterable starts at the run's first
   * durable event, as a journal read from its beginning does).
   */
  readonly firstSeq?: number;
  /**
   * Events per transaction (default 250 000, at most half of
   * `maxBufferedEvents`). A batch over DuckDB's row-group size (122 880 rows)
   * is written as compressed row groups while it is appended, instead of to
   * the write-ahead log and again at the next checkpoint.
   */
  readonly batchEvents?: number;
}

export interface IngestResult {
  readonly accepted: number;
  readonly skipped: number;
  readonly marks: Readonly<Record<string, HighWaterMark>>;
}

export interface PruneResult {
  readonly runs: readonly string[];
  readonly rows: number;
}

/** An event with its per-run sequence number, as a journal reader can provide it. */
export type IngestEvent = SluiceEvent & { readonly seq?: number };

/** `<home>/metrics.duckdb`, home as `stateHome()` resolves it. */
export function metricsPath(home?: string): string {
  return paths.join(stateHome(home), "metrics.duckdb");
}

export { metricsEnabled } from "./enabled.ts";

interface Shared {
  db: Database;
  writer: MetricsStore | undefined;
  users: number;
}
/** Databases open (or opening) in this process, by absolute path. */
const open = new Map<string, Promise<Shared>>();

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
  const pending = open.get(path);
  if (pending) {
    const shared = await pending;
    if (!readOnly && (shared.writer || shared.db.readOnly)) {
      throw new MetricsStateError(
        shared.db.readOnly
          ? `The metrics database ${path} is open read-only in this process; close that handle before opening it for writing.`
          : `The metrics database ${path} is already open for writing in this process; share that MetricsStore ` +
              "(or open a read-only handle) instead of opening it twice.",
      );
    }
    shared.users++;
    try {
      // A read-only handle (or a writer, when the previous one closed) on the shared instance.
      return await MetricsStore.create(shared, path, readOnly, options);
    } catch (e) {
      shared.users--;
      throw e;
    }
  }
  // Registered before the first await, so a concurrent open in this process waits for this one.
  const opening = (async (): Promise<Shared> => {
    if (readOnly) {
      if (!(await fs.stat(path))?.isFile) throw new MetricsNotFoundError(path);
    } else {
      await fs.mkdirp(paths.dirname(path), 0o700);
    }
    try {
      return { db: await openDuckDB(path, { readOnly }), writer: undefined, users: 1 };
    } catch (e) {
      throw toOpenError(path, e);
    }
  })();
  open.set(path, opening);
  let shared: Shared;
  try {
    shared = await opening;
  } catch (e) {
    open.delete(path);
    throw e;
  }
  try {
    return await MetricsStore.create(shared, path, readOnly, options);
  } catch (e) {
    open.delete(path);
    shared.db.close();
    throw e;
  }
}

function toOpenError(path: string, e: unknown): Error {
  const message = e instanceof Error ? e.message : String(e);
  if (/lock/i.test(message)) {
    const pid = /PID (\d+)/.exec(message);
    return new MetricsLockedError(path, pid ? Number(pid[1]) : undefined, e);
  }
  return e instanceof Error ? e : new Error(message);
}

/** While a flush is in flight, `ingest` lets the event loop turn once per this many events. */
const TURN_EVERY = 1024;

/**
 * Resolves on the next turn of the event loop, after pending I/O callbacks
 * such as DuckDB's answers (`setImmediate`, which node, bun and deno all
 * have; `setTimeout(0)` waits at least 1 ms, about a tenth of ingest's time).
 */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The metrics store. All results are plain JSON-able objects. */
export class MetricsStore {
  readonly #shared: Shared;
  readonly #clock: Clock;
  readonly #options: MetricsStoreOptions;
  readonly #reader: Connection;
  readonly #readLock = new Mutex();
  readonly #guard: GuardedQuery;
  readonly #writeConn: Connection | undefined;
  readonly #writer: MetricsWriter | undefined;
  readonly #writeLock = new Mutex();
  readonly #stopTimer: () => void;
  readonly #subscriptions = new Set<Subscription>();
  #alerts: AlertsHandle | undefined;
  #flushScheduled = false;
  #closed = false;
  #errorsReported = 0;

  private constructor(
    shared: Shared,
    readonly path: string,
    readonly readOnly: boolean,
    options: MetricsStoreOptions,
    reader: Connection,
    user: Connection,
    writeConn?: Connection,
    writer?: MetricsWriter,
  ) {
    this.#shared = shared;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#reader = reader;
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
  ): Promise<MetricsStore> {
    const db = shared.db;
    if (readOnly) {
      const reader = await db.connect();
      await checkSchema(reader, path);
      return new MetricsStore(shared, path, true, options, reader, await db.connect());
    }
    const w = await db.connect();
    const version = await checkSchema(w, path);
    await w.run(tableDdl());
    const existing = new Map<string, Set<string>>();
    for (const r of await w.all(
      "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main'",
    )) {
      const t = String(r.table_name);
      if (!existing.has(t)) existing.set(t, new Set());
      existing.get(t)?.add(String(r.column_name));
    }
    for (const sql of migrationDdl(existing)) await w.run(sql);
    if (version !== SCHEMA_VERSION) {
      await w.run("DELETE FROM meta WHERE key = 'schema_version'");
      await w.run(`INSERT INTO meta VALUES ('schema_version', '${SCHEMA_VERSION}')`);
    }
    await w.run(viewDdl());
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
    const alerts =
      options.alerts === undefined
        ? undefined
        : attachAlerts(bus, options.alerts === true ? undefined : options.alerts, options.backlog);
    if (alerts) this.#alerts = alerts;
    // Deviation from baseline: each run's throughput is compared with the median of
    // its pipeline's comparable past runs (looked up once per run, off the hot path).
    const onStarted = (e: SluiceEvent) => {
      if (e.kind !== "run.started" || !alerts) return;
      this.baselines({
        pipeline: e.pipeline,
        runtime: e.runtime,
        host: e.host,
        definitionHash: e.definitionHash,
        excludeRunId: e.runId,
      }).then(
        (b) => alerts.engine.setBaseline(e.runId, b?.metrics.rows_per_s?.median),
        () => {},
      );
    };
    for (const e of options.backlog ?? []) {
      writer.add(e);
      onStarted(e);
    }
    if (options.backlog?.length) this.#maybeFlushSoon();
    const sub = bus.subscribe((e) => {
      if (writer.add(e)) this.#maybeFlushSoon();
    });
    const started = alerts ? bus.subscribe(onStarted, ["run.started"]) : undefined;
    const wrapped: Subscription = {
      unsubscribe: () => {
        sub.unsubscribe();
        started?.unsubscribe();
        alerts?.unsubscribe();
        if (this.#alerts === alerts) this.#alerts = undefined;
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
    const writer = this.#requireWriter("ingest");
    const first = options.firstSeq ?? 1;
    const batch = Math.max(1, Math.min(options.batchEvents ?? 250_000, Math.floor(writer.maxBuffered / 2)));
    const next = new Map<string, number>();
    let accepted = 0;
    let skipped = 0;
    // One flush in flight while the next batch is buffered: DuckDB commits on
    // its threads meanwhile, and the buffer never holds more than two batches.
    // While a flush is in flight the loop lets the event loop turn every few
    // thousand events, so the flush's next step (its appends, then its
    // COMMIT) starts as soon as DuckDB answers instead of when this batch is
    // full.
    let inFlight: Promise<void> | undefined;
    let done = false;
    let sinceTurn = 0;
    const startFlush = async (): Promise<void> => {
      await inFlight;
      done = false;
      sinceTurn = 0;
      inFlight = this.flush().finally(() => {
        done = true;
      });
      // A failure is rethrown where the loop next awaits it; marked handled
      // here so that it is not reported as unhandled during a turn meanwhile.
      inFlight.catch(() => {});
    };
    /** Buffers one event; returns a promise only when the loop must wait. */
    const take = (e: IngestEvent): Promise<void> | undefined => {
      if (durable[e.kind] === false) {
        // Live-only kinds are not stored and take no sequence number (the journal has none).
        skipped++;
        return undefined;
      }
      let seq = e.seq;
      if (seq === undefined) {
        seq = next.get(e.runId) ?? first;
        next.set(e.runId, seq + 1);
      }
      if (writer.add(e, seq)) accepted++;
      else skipped++;
      if (writer.buffered >= batch) return startFlush();
      if (inFlight && !done && ++sinceTurn >= TURN_EVERY) {
        sinceTurn = 0;
        return turn();
      }
      return undefined;
    };
    // A synchronous source is read without an await per event (each costs a promise).
    if (Symbol.iterator in events) {
      for (const e of events) {
        const wait = take(e);
        if (wait) await wait;
      }
    } else {
      for await (const e of events) {
        const wait = take(e);
        if (wait) await wait;
      }
    }
    await inFlight;
    await this.flush();
    return { accepted, skipped, marks: writer.marks() };
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
    if (!writer || this.#closed) return Promise.resolve();
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
    this.#requireOpen();
    return this.#guard.run(sql, params, options);
  }

  /** Everything about one run; undefined if the store has no event of it. */
  summary(runId: string): Promise<RunReport | undefined> {
    return this.#read((db) => runSummary(db, runId));
  }

  /** The stage that limits the run's throughput, with evidence; undefined for an unknown run. */
  async bottlenecks(runId: string, options?: BottleneckOptions): Promise<BottleneckReport | undefined> {
    const report = await this.summary(runId);
    return report ? findBottlenecks(report, options) : undefined;
  }

  /** Settings to change, derived from the run's figures; undefined for an unknown run. */
  async recommendations(
    runId: string,
    options: Partial<RecommendationOptions> & BottleneckOptions = {},
  ): Promise<Recommendation[] | undefined> {
    const report = await this.summary(runId);
    if (!report) return undefined;
    return recommend(report, findBottlenecks(report, options), { cores: cpuCount(), ...options });
  }

  /** Where throughput, p99 and peak RSS are heading over a pipeline's last N runs (`trends.ts`). */
  trends(query?: TrendQuery): Promise<Trend[]> {
    return this.#read((db) => computeTrends(db, query));
  }

  /** Median figures of the last N comparable runs of a pipeline, or of a scenario's results. */
  baselines(query: BaselineQuery): Promise<Baseline | null> {
    return this.#read((db) => computeBaseline(db, query));
  }

  /**
   * A run against the median of the comparable runs before it, or a
   * scenario's latest (or given) results against its earlier ones.
   */
  regressions(
    target:
      | { readonly runId: string }
      | {
          readonly scenario: string;
          readonly runtime?: string;
          readonly host?: string;
          readonly runId?: string;
          readonly metrics?: Readonly<Record<string, number>>;
        },
    options?: RegressionOptions,
  ): Promise<RegressionReport> {
    return this.#read((db) =>
      "scenario" in target
        ? scenarioRegressions(db, target.scenario, target, options)
        : runRegressions(db, target.runId, options),
    );
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
    await this.#writeLock.run(async () => {
      await conn.run("BEGIN TRANSACTION");
      try {
        for (const [metric, m] of Object.entries(result.metrics)) {
          await conn.run(
            `INSERT INTO bench_results VALUES ($scenario, $run, make_timestamp(CAST(round($ts * 1000) AS BIGINT)),
             $runtime, $host, $metric, $value, $unit, $better, CAST($tags AS JSON))`,
            {
              scenario: result.scenario,
              run: result.runId ?? null,
              ts: result.ts,
              runtime: result.runtime,
              host: result.host ?? null,
              metric,
              value: m.value,
              unit: m.unit ?? null,
              better: m.better,
              tags: result.tags ? JSON.stringify(result.tags) : null,
            },
          );
        }
        await conn.run("COMMIT");
      } catch (e) {
        await conn.run("ROLLBACK").catch(() => {});
        throw e;
      }
    });
  }

  /** Deletes runs whose last event is older than `olderThanMs` (and older benchmark results). */
  async prune(olderThanMs: number): Promise<PruneResult> {
    const conn = this.#writeConn;
    const writer = this.#writer;
    if (!conn || !writer) throw this.#readOnlyError("prune");
    if (!(olderThanMs >= 0)) throw new MetricsConfigError("olderThanMs", `must be ≥ 0, got ${olderThanMs}`);
    await this.flush();
    const cutoffUs = Math.round((this.#clock.now() - olderThanMs) * 1000);
    return this.#writeLock.run(async () => {
      const old = await conn.all(
        "SELECT run_id FROM ingest_marks WHERE ts < make_timestamp($cutoff) ORDER BY run_id",
        {
          cutoff: cutoffUs,
        },
      );
      const runs = old.map((r) => String(r.run_id));
      let rows = 0;
      await conn.run("BEGIN TRANSACTION");
      try {
        if (runs.length > 0) {
          for (const t of RUN_TABLES) {
            // DuckDB answers a DELETE with one row: the number of rows deleted.
            const [r] = await conn.all(`DELETE FROM ${t} WHERE run_id IN (SELECT unnest($runs))`, { runs });
            rows += Number(r?.Count ?? 0);
          }
        }
        await conn.run("DELETE FROM bench_results WHERE ts < make_timestamp($cutoff)", { cutoff: cutoffUs });
        await conn.run("COMMIT");
      } catch (e) {
        await conn.run("ROLLBACK").catch(() => {});
        throw e;
      }
      writer.forget(runs);
      await conn.run("CHECKPOINT");
      return { runs, rows };
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
    if (this.#closed) return;
    this.#stopTimer();
    for (const s of [...this.#subscriptions]) s.unsubscribe();
    let failure: unknown;
    if (this.#writer) {
      await this.flush().catch((e) => {
        failure = e;
      });
      await this.#writeLock.run(() => this.#writeConn!.run("CHECKPOINT")).catch(() => {});
    }
    this.#closed = true;
    await this.#readLock.run(async () => this.#reader.close());
    this.#writer?.close();
    this.#writeConn?.close();
    const shared = this.#shared;
    if (shared.writer === this) shared.writer = undefined;
    shared.users--;
    if (shared.users <= 0) {
      open.delete(this.path);
      shared.db.close();
    }
    if (failure) throw failure;
  }

  #read<T>(fn: (db: { all: Connection["all"] }) => Promise<T>): Promise<T> {
    this.#requireOpen();
    return this.#readLock.run(() => fn(this.#reader));
  }

  #maybeFlushSoon(): void {
    if (this.#flushScheduled || !this.#writer) return;
    if (this.#writer.buffered < (this.#options.flushEvents ?? 50_000)) return;
    this.#flushScheduled = true;
    queueMicrotask(() => this.#background());
  }

  #background(): void {
    if (this.#closed) return;
    this.flush().catch((e: MetricsWriteError) => {
      if (this.#options.onError) this.#options.onError(e);
      else if (this.#errorsReported++ < 3) console.error(`sluice: ${e.message}`);
    });
  }

  #requireOpen(): void {
    if (this.#closed) throw new MetricsStateError(`The metrics store ${this.path} is closed; open it again.`);
  }

  #requireWriter(what: string): MetricsWriter {
    this.#requireOpen();
    if (!this.#writer) throw this.#readOnlyError(what);
    return this.#writer;
  }

  #readOnlyError(what: string): MetricsStateError {
    return new MetricsStateError(
      `${what}() needs the metrics store open for writing, but ${this.path} was opened read-only.`,
    );
  }
}

async function checkSchema(conn: Connection, path: string): Promise<number | undefined> {
  const tables = await conn.all(
    "SELECT 1 FROM duckdb_tables() WHERE table_name = 'meta' AND schema_name = 'main'",
  );
  if (tables.length === 0) return undefined;
  const rows = await conn.all("SELECT value FROM meta WHERE key = 'schema_version'");
  if (rows.length === 0) return undefined;
  const version = Number(rows[0].value);
  if (version > SCHEMA_VERSION) throw new MetricsSchemaError(path, version, SCHEMA_VERSION);
  return version;
}
