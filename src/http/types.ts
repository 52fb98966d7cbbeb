/**
 * @module What the HTTP app needs from the rest of sluice, as small
 * interfaces: a `RunsSource` (list, project and page through runs), a
 * `MetricsQueries` (figures from the DuckDB metrics store), the live bus,
 * a clock, the auth settings and the limits. `createApp` takes these and
 * nothing else, so tests give it fakes and `sluice run --serve` /
 * `sluice serve` give it the real store and journal.
 */
import type { RunState } from "../events/projection.ts";
import type { EventKind, SluiceEvent } from "../events/schema.ts";

/** A JSON value (what responses carry). */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };
export type JsonObject = { readonly [k: string]: Json };

/** One page of a list; `next` is the cursor for the following page, null at the end. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next: string | null;
}

export type RunStatus = RunState["status"];

export interface RunListQuery {
  readonly pipeline?: string;
  readonly status?: RunStatus;
  /** Run ids sort by start time; the page holds runs with ids below this one. */
  readonly before?: string;
  readonly limit: number;
}

/** One row of the runs list. */
export interface RunListItem {
  readonly runId: string;
  readonly pipeline: string;
  readonly status: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly rowsIn: number | null;
  readonly rowsOut: number | null;
  readonly deadLettered: number | null;
  /** True for the run this process is executing now. */
  readonly live: boolean;
}

export interface EventQuery {
  /** Per-run sequence number (durable events only, as the journal and the store number them). */
  readonly after?: number;
  readonly kinds?: readonly EventKind[];
  readonly limit: number;
}

export interface EventItem {
  readonly seq: number;
  readonly kind: string;
  readonly ts: string;
  readonly stage: string | null;
  readonly data: JsonObject;
}

/** Where runs, their projection and their events come from (journal, store, live bus). */
export interface RunsSource {
  list(query: RunListQuery): Promise<readonly RunListItem[]>;
  /** The status/progress projection of one run; undefined when unknown. */
  get(runId: string): Promise<RunState | undefined>;
  /** Undefined when the run is unknown. */
  events(runId: string, query: EventQuery): Promise<readonly EventItem[] | undefined>;
  /** Cancels a live run (stops reading, takes a checkpoint); false when it is not this process's. */
  cancel?(runId: string): Promise<boolean>;
}

/** Per-stage series figures a client may ask for (the allow-list; see `SERIES_COLUMNS`). */
export type SeriesMetric =
  | "rows_per_s"
  | "bytes_per_s"
  | "rows_in"
  | "rows_out"
  | "errors"
  | "error_rate"
  | "dead_lettered"
  | "dead_letter_rate"
  | "busy_share"
  | "queue_depth"
  | "mean_ms"
  | "max_ms"
  | "p50_ms"
  | "p95_ms"
  | "p99_ms";

export interface SeriesQuery {
  readonly run?: string;
  readonly pipeline?: string;
  readonly stage?: string;
  readonly metric: SeriesMetric;
  /** ms since epoch, inclusive. */
  readonly from: number;
  /** ms since epoch, exclusive. */
  readonly to: number;
  readonly bucketS: number;
  readonly limit: number;
}

export interface SeriesPoint {
  readonly run: string;
  readonly stage: string;
  /** Bucket start, ms since epoch. */
  readonly t: number;
  readonly value: number | null;
}

export interface AlertQuery {
  readonly state: "active" | "all";
  readonly run?: string;
  readonly pipeline?: string;
  /** Opaque key of the last alert of the previous page. */
  readonly after?: string;
  readonly limit: number;
}

export interface AlertItem {
  readonly alertId: string;
  readonly runId: string;
  readonly pipeline: string;
  readonly rule: string;
  readonly severity: string;
  readonly stage: string | null;
  readonly raisedAt: string;
  readonly resolvedAt: string | null;
  readonly value: number;
  readonly threshold: number | null;
  readonly message: string | null;
  /** Sort key; the page cursor. */
  readonly key: string;
}

export interface BenchmarkQuery {
  readonly scenario?: string;
  readonly after?: string;
  readonly limit: number;
}

/**
 * What the API asks of the metrics store. Every method takes validated values
 * only; implementations bind them as SQL parameters.
 */
export interface MetricsQueries {
  /** Resolves when the store answers a trivial query; rejects otherwise (`/ready`). */
  ping(): Promise<void>;
  runs(query: RunListQuery): Promise<readonly RunListItem[]>;
  /** The run's report (figures per stage, resources, alerts); undefined when unknown. */
  summary(runId: string): Promise<JsonObject | undefined>;
  events(runId: string, query: EventQuery): Promise<readonly EventItem[] | undefined>;
  series(query: SeriesQuery): Promise<readonly SeriesPoint[]>;
  alerts(query: AlertQuery): Promise<readonly AlertItem[]>;
  bottlenecks(runId: string): Promise<JsonObject | undefined>;
  recommendations(runId: string): Promise<Json | undefined>;
  baselines(query: { pipeline?: string }): Promise<Json>;
  regressions(query: { pipeline?: string; run?: string }): Promise<Json>;
  /** Trends of rows/s, p99 and peak RSS over a pipeline's last runs (`metrics/trends.ts`). */
  trends?(query: { pipeline?: string; stage?: string; runs?: number }): Promise<Json>;
  benchmarks(query: BenchmarkQuery): Promise<readonly JsonObject[]>;
  /** The alert rules in effect (for one pipeline, or the defaults). */
  rules(query: { pipeline?: string }): Promise<Json>;
  /** Replaces the alert rules (validated by the store); throws a `MetricsConfigError` naming the bad setting. */
  setRules?(rules: Json): Promise<Json>;
  /** Resolves an active alert by hand; false when no such active alert. */
  resolveAlert?(alertId: string): Promise<boolean>;
}

/** A live event source (the run's bus), for SSE and the live projection. */
export interface LiveBus {
  subscribe(fn: (e: SluiceEvent) => void, kinds?: readonly EventKind[]): { unsubscribe(): void };
}

export interface AuthOptions {
  /** Bearer token; when set, every route but `/health` requires it. */
  readonly token?: string;
  /** Enables resolve-alert, update-rules and cancel-run. Default false. */
  readonly allowWrites?: boolean;
  /** The address the server is bound to (default 127.0.0.1): the Host names it answers to follow from it. */
  readonly bindHost?: string;
  /** More Host names (`--allowed-hosts`), e.g. a reverse proxy's `dash.example.com` or `name:port`. */
  readonly allowedHosts?: readonly string[];
}

export interface Limits {
  /** Largest request body in bytes (default 64 KiB). */
  readonly maxBodyBytes: number;
  /** Largest page (default 500); the default page is 100. */
  readonly maxPageSize: number;
  /** Longest time range of a series query in ms (default 31 days). */
  readonly maxRangeMs: number;
  /** Most points a series query may span (range / bucket; default 20 000). */
  readonly maxPoints: number;
  /** Sustained requests per second per client (default 1000). */
  readonly ratePerSecond: number;
  /** Burst above the sustained rate (default 2000). */
  readonly burst: number;
  /** How long a series answer is reused for the same query (default 250 ms). */
  readonly seriesCacheMs: number;
  /** Most concurrent SSE streams (default 64). */
  readonly maxStreams: number;
  /** Most `/api/` requests (store queries) in flight per client; beyond it a 429 (default 8). */
  readonly maxQueriesPerClient: number;
  /** Most `/api/` requests in flight in the server; beyond it a 503 (default 16). */
  readonly maxQueries: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: 64 * 1024,
  maxPageSize: 500,
  maxRangeMs: 31 * 24 * 3600 * 1000,
  maxPoints: 20_000,
  ratePerSecond: 1000,
  burst: 2000,
  seriesCacheMs: 250,
  maxStreams: 64,
  maxQueriesPerClient: 8,
  maxQueries: 16,
};
