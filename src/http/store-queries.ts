/**
 * @module `MetricsQueries` over the metrics store (`openMetricsStore`). The
 * SQL here reads the store's documented views and tables (`runs`, `events`,
 * `alerts`, `stage_progress`, `stage_rollup_1m`, `bench_results`) through `store.query`, the store's
 * guarded path: one SELECT at a time inside a READ ONLY transaction on a
 * database opened with external access off. Clause texts are fixed
 * fragments chosen by which filters are present and the series column comes
 * from `SERIES_COLUMNS`; every value is a bound parameter.
 */

import type { SqlParams, SqlRow, SqlValue } from "../duckdb/client.ts";
import { Histogram } from "../metrics/histogram.ts";
import { BadRequestError, UnavailableError } from "./errors.ts";
import { type BucketSums, isPercentile, seriesFigure } from "./internal/series-figure.ts";
import { SERIES_COLUMNS } from "./schemas.ts";
import type {
  AlertItem,
  EventItem,
  Json,
  JsonObject,
  MetricsQueries,
  RunListItem,
  SeriesMetric,
} from "./types.ts";

/** The part of `MetricsStore` this adapter uses (structural, so tests can pass a double). */
export interface MetricsStoreLike {
  query(
    sql: string,
    params?: SqlParams,
    options?: { maxRows?: number; timeoutMs?: number },
  ): Promise<{ rows: SqlRow[] }>;
  summary(runId: string): Promise<unknown>;
  bottlenecks(runId: string): Promise<unknown>;
  recommendations(runId: string): Promise<unknown>;
  baselines(query: { pipeline?: string }): Promise<unknown>;
  regressions(target: { runId: string }): Promise<unknown>;
  trends?(query: { pipeline?: string; stage?: string; runs?: number }): Promise<unknown>;
  /** Alert rules, when the store has them. */
  rules?(pipeline?: string): Promise<unknown>;
  setRules?(rules: unknown): Promise<unknown>;
  resolveAlert?(alertId: string): Promise<boolean>;
}

export interface StoreQueriesOptions {
  /** A query running longer is interrupted (default 5000 ms). */
  readonly timeoutMs?: number;
}

const str = (v: SqlValue | undefined): string | null => (v === null || v === undefined ? null : String(v));
const numOrNull = (v: SqlValue | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(Number(v)) ? null : Number(v);
const iso = (v: SqlValue | undefined): string | null => {
  if (v === null || v === undefined) return null;
  const s = String(v);
  const t = Date.parse(/Z|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(" ", "T")}Z`);
  return Number.isFinite(t) ? new Date(t).toISOString() : s;
};
/** Store results are JSON-able already; this narrows the type. */
const json = (v: unknown): Json => (v === undefined ? null : (JSON.parse(JSON.stringify(v)) as Json));

/** The two tables a series reads, with their column names (fixed text, never from a request). */
const RAW_SOURCE = { table: "stage_progress", ts: "ts", queue: "queue_depth" } as const;
const ROLLUP_SOURCE = { table: "stage_rollup_1m", ts: "minute", queue: "queue_depth_max" } as const;

/** One series figure from a bucket's row (the formulas in `internal/series-figure.ts`). */
function figure(metric: SeriesMetric, r: SqlRow): number | null {
  const sums: BucketSums = {
    rowsIn: numOrNull(r.rows_in),
    rowsOut: numOrNull(r.rows_out),
    errors: numOrNull(r.errors),
    deadLettered: numOrNull(r.dead_lettered),
    bytes: numOrNull(r.bytes),
    busyMs: numOrNull(r.busy_ms),
    intervalMs: numOrNull(r.interval_ms),
    queueDepth: numOrNull(r.queue_depth),
    latCount: numOrNull(r.lat_count),
    latSumMs: numOrNull(r.lat_sum_ms),
    latMaxMs: numOrNull(r.lat_max_ms),
  };
  return seriesFigure(metric, sums, (p) => {
    const idx = Array.isArray(r.lat_idx) ? r.lat_idx : [];
    const n = Array.isArray(r.lat_n) ? r.lat_n : [];
    if (idx.length === 0) return null;
    const h = new Histogram();
    h.merge({
      count: sums.latCount ?? 0,
      sumMs: 0,
      maxMs: sums.latMaxMs ?? 0,
      buckets: idx.map((i, k) => [Number(i), Number(n[k])] as [number, number]),
    });
    return h.percentile(p);
  });
}

function where(clauses: string[]): string {
  return clauses.length ? `WHERE ${clauses.join(" AND ")}` : "";
}

export function storeQueries(store: MetricsStoreLike, options: StoreQueriesOptions = {}): MetricsQueries {
  const timeoutMs = options.timeoutMs ?? 5000;
  const all = async (sql: string, params: Record<string, SqlValue>, maxRows = 100_000): Promise<SqlRow[]> =>
    (await store.query(sql, params, { maxRows, timeoutMs })).rows;

  return {
    async ping() {
      await all("SELECT 1 AS ok", {});
    },

    async runs(q) {
      const c: string[] = [];
      const p: Record<string, SqlValue> = { limit: q.limit };
      if (q.pipeline) {
        c.push("pipeline = $pipeline");
        p.pipeline = q.pipeline;
      }
      if (q.status) {
        c.push("status = $status");
        p.status = q.status;
      }
      if (q.before) {
        c.push("run_id < $before");
        p.before = q.before;
      }
      const rows = await all(
        `SELECT run_id, pipeline, status, started_at, ended_at, rows_in, rows_out, dead_lettered
         FROM runs ${where(c)} ORDER BY run_id DESC LIMIT $limit`,
        p,
      );
      return rows.map(
        (r): RunListItem => ({
          runId: String(r.run_id),
          pipeline: String(r.pipeline),
          status: String(r.status),
          startedAt: iso(r.started_at),
          endedAt: iso(r.ended_at),
          rowsIn: numOrNull(r.rows_in),
          rowsOut: numOrNull(r.rows_out),
          deadLettered: numOrNull(r.dead_lettered),
          live: false,
        }),
      );
    },

    async summary(runId) {
      const r = await store.summary(runId);
      return r === undefined ? undefined : (json(r) as JsonObject);
    },

    async events(runId, q) {
      const c = ["run_id = $run", "seq > $after"];
      const p: Record<string, SqlValue> = { run: runId, after: q.after ?? 0, limit: q.limit };
      if (q.kinds?.length) {
        c.push("list_contains($kinds, kind)");
        p.kinds = [...q.kinds];
      }
      const rows = await all(
        `SELECT seq, kind, epoch_ms(ts) AS ts, stage, payload FROM events ${where(c)} ORDER BY seq LIMIT $limit`,
        p,
      );
      if (rows.length === 0) {
        const known = await all("SELECT 1 AS ok FROM runs WHERE run_id = $run", { run: runId });
        if (known.length === 0) return undefined;
      }
      return rows.map((r): EventItem => {
        let payload = r.payload as unknown;
        if (typeof payload === "string") {
          try {
            payload = JSON.parse(payload);
          } catch {
            payload = { value: payload };
          }
        }
        const {
          run_id: _r,
          pipeline: _p,
          seq: _s,
          ts: _t,
          ...data
        } = (payload ?? {}) as Record<string, Json>;
        return {
          seq: Number(r.seq),
          kind: String(r.kind),
          ts: new Date(Number(r.ts)).toISOString(),
          stage: str(r.stage),
          data,
        };
      });
    },

    async series(q) {
      if (!SERIES_COLUMNS[q.metric]) throw new BadRequestError("query.metric", "not a known metric");
      // Whole-minute buckets read the minute rollup, finer ones the raw events;
      // both are filtered by run/stage/time before aggregating (the generic
      // `stage_metrics_by` macro aggregates every run first). Figures are
      // derived below with the same formulas as the store's views.
      const src = q.bucketS % 60 === 0 ? ROLLUP_SOURCE : RAW_SOURCE;
      const c = [`${src.ts} >= make_timestamp($from)`, `${src.ts} < make_timestamp($to)`];
      const p: Record<string, SqlValue> = {
        width: q.bucketS,
        from: q.from * 1000,
        to: q.to * 1000,
        limit: q.limit,
      };
      if (q.run) {
        c.push("run_id = $run");
        p.run = q.run;
      }
      if (q.pipeline) {
        c.push("pipeline = $pipeline");
        p.pipeline = q.pipeline;
      }
      if (q.stage) {
        c.push("stage = $stage");
        p.stage = q.stage;
      }
      const hist = isPercentile(q.metric);
      const rows = await all(
        `SELECT run_id, stage, epoch_ms(time_bucket(to_seconds(CAST($width AS BIGINT)), ${src.ts})) AS t,
                sum(rows_in) AS rows_in, sum(rows_out) AS rows_out, sum(errors) AS errors,
                sum(dead_lettered) AS dead_lettered, sum(bytes) AS bytes, sum(busy_ms) AS busy_ms,
                sum(interval_ms) AS interval_ms, max(${src.queue}) AS queue_depth, sum(lat_count) AS lat_count,
                sum(lat_sum_ms) AS lat_sum_ms, max(lat_max_ms) AS lat_max_ms
                ${hist ? ", flatten(list(lat_idx)) AS lat_idx, flatten(list(lat_n)) AS lat_n" : ""}
         FROM ${src.table} ${where(c)} GROUP BY ALL ORDER BY t, run_id, stage LIMIT $limit`,
        p,
        q.limit,
      );
      return rows.map((r) => ({
        run: String(r.run_id),
        stage: String(r.stage),
        t: Number(r.t),
        value: figure(q.metric, r),
      }));
    },

    async alerts(q) {
      const c: string[] = [];
      const p: Record<string, SqlValue> = { limit: q.limit };
      if (q.state === "active") c.push("resolved_at IS NULL");
      if (q.run) {
        c.push("run_id = $run");
        p.run = q.run;
      }
      if (q.pipeline) {
        c.push("pipeline = $pipeline");
        p.pipeline = q.pipeline;
      }
      if (q.after) {
        const m = /^(\d{1,15})\|(.+)$/.exec(q.after);
        if (!m) throw new BadRequestError("query.cursor", "not a cursor this server issued");
        c.push("(epoch_ms(raised_at) < $at OR (epoch_ms(raised_at) = $at AND alert_id < $id))");
        p.at = Number(m[1]);
        p.id = m[2];
      }
      const rows = await all(
        `SELECT alert_id, run_id, pipeline, rule, severity, stage, epoch_ms(raised_at) AS raised_ms,
                resolved_at, value, threshold, message
         FROM alerts ${where(c)} ORDER BY raised_ms DESC, alert_id DESC LIMIT $limit`,
        p,
      );
      return rows.map(
        (r): AlertItem => ({
          alertId: String(r.alert_id),
          runId: String(r.run_id),
          pipeline: String(r.pipeline),
          rule: String(r.rule),
          severity: String(r.severity),
          stage: str(r.stage),
          raisedAt: new Date(Number(r.raised_ms)).toISOString(),
          resolvedAt: iso(r.resolved_at),
          value: Number(r.value),
          threshold: numOrNull(r.threshold),
          message: str(r.message),
          key: `${String(r.raised_ms).padStart(15, "0")}|${String(r.alert_id)}`,
        }),
      );
    },

    async bottlenecks(runId) {
      const r = await store.bottlenecks(runId);
      return r === undefined ? undefined : (json(r) as JsonObject);
    },

    async recommendations(runId) {
      const r = await store.recommendations(runId);
      return r === undefined ? undefined : json(r);
    },

    async baselines(q) {
      const pipelines = q.pipeline
        ? [q.pipeline]
        : (await all("SELECT DISTINCT pipeline FROM runs ORDER BY pipeline LIMIT 50", {})).map((r) =>
            String(r.pipeline),
          );
      const out: Json[] = [];
      for (const pipeline of pipelines) out.push(json((await store.baselines({ pipeline })) ?? null));
      return out;
    },

    async regressions(q) {
      let runs: string[];
      if (q.run) runs = [q.run];
      else {
        const c = ["status = 'completed'"];
        const p: Record<string, SqlValue> = {};
        if (q.pipeline) {
          c.push("pipeline = $pipeline");
          p.pipeline = q.pipeline;
        }
        runs = (
          await all(
            `SELECT arg_max(run_id, run_id) AS run_id FROM runs ${where(c)} GROUP BY pipeline ORDER BY 1 DESC LIMIT 50`,
            p,
          )
        ).map((r) => String(r.run_id));
      }
      const out: Json[] = [];
      for (const runId of runs) out.push(json(await store.regressions({ runId })));
      return out;
    },

    async trends(q) {
      if (!store.trends) throw new UnavailableError("this metrics store has no trends");
      return json(await store.trends(q));
    },

    async benchmarks(q) {
      const c: string[] = [];
      const p: Record<string, SqlValue> = { limit: q.limit };
      if (q.scenario) {
        c.push("scenario = $scenario");
        p.scenario = q.scenario;
      }
      if (q.after) {
        const m = /^(\d{1,15})\|([^|]*)\|(.*)$/.exec(q.after);
        if (!m) throw new BadRequestError("query.cursor", "not a cursor this server issued");
        c.push("(epoch_ms(ts), scenario, metric) < ($at, $sc, $metric)");
        p.at = Number(m[1]);
        p.sc = m[2];
        p.metric = m[3];
      }
      const rows = await all(
        `SELECT scenario, run_id, epoch_ms(ts) AS at_ms, runtime, host, metric, value, unit, better
         FROM bench_results ${where(c)} ORDER BY at_ms DESC, scenario DESC, metric DESC LIMIT $limit`,
        p,
      );
      return rows.map((r) => ({
        scenario: String(r.scenario),
        runId: str(r.run_id),
        ts: new Date(Number(r.at_ms)).toISOString(),
        runtime: str(r.runtime),
        host: str(r.host),
        metric: String(r.metric),
        value: numOrNull(r.value),
        unit: str(r.unit),
        better: str(r.better),
        key: `${String(r.at_ms).padStart(15, "0")}|${String(r.scenario)}|${String(r.metric)}`,
      }));
    },

    async rules(q) {
      if (!store.rules) throw new UnavailableError("this metrics store has no alert rules");
      return json(await store.rules(q.pipeline));
    },

    setRules: async (rules) => {
      if (!store.setRules) throw new UnavailableError("this metrics store cannot change alert rules");
      return json(await store.setRules(rules));
    },

    resolveAlert: async (alertId) => {
      if (!store.resolveAlert) throw new UnavailableError("this metrics store cannot resolve alerts");
      return store.resolveAlert(alertId);
    },
  };
}
