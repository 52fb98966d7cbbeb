/**
 * @module The zod schemas of every parameter and body the API accepts, and
 * the helpers that apply them. They are the validation and the OpenAPI
 * document at once (`openapi.ts` reads the same objects). Objects are strict:
 * an unknown field is a 400 naming it. Names that later reach SQL are
 * identifiers (letters, digits, `_ . : -`, starting with a letter or digit)
 * or members of an allow-list; nothing else gets through.
 */
import { z } from "zod";
import { eventKinds } from "../events/schema.ts";
import { BadRequestError } from "./errors.ts";
import type { Limits, SeriesMetric } from "./types.ts";

/** Pipeline, run and stage names. A leading dot is refused so no name can read as a path (`..`). */
export const Identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, "must be an identifier: letters, digits and _ . : - (1-128 chars)");

/** An opaque page cursor (base64url). */
export const Cursor = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9_-]+$/, "must be a cursor returned in `next` by the previous page");

export const RunStatusSchema = z.enum(["running", "completed", "failed", "cancelled", "interrupted"]);
export const EventKindSchema = z.enum(eventKinds as [string, ...string[]]);

/** Series metrics and the store columns they read: the allow-list that reaches SQL. */
export const SERIES_COLUMNS: Readonly<Record<SeriesMetric, string>> = {
  rows_per_s: "rows_per_s",
  bytes_per_s: "bytes_per_s",
  rows_in: "rows_in",
  rows_out: "rows_out",
  errors: "errors",
  error_rate: "error_rate",
  dead_lettered: "dead_lettered",
  dead_letter_rate: "dead_letter_rate",
  busy_share: "busy_share",
  queue_depth: "queue_depth",
  mean_ms: "mean_ms",
  max_ms: "max_ms",
  p50_ms: "p50_ms",
  p95_ms: "p95_ms",
  p99_ms: "p99_ms",
};
export const SeriesMetricSchema = z.enum(Object.keys(SERIES_COLUMNS) as [SeriesMetric, ...SeriesMetric[]]);

/** Bucket widths a series may use, in seconds. */
export const BUCKETS: Readonly<Record<string, number>> = {
  "1s": 1,
  "5s": 5,
  "10s": 10,
  "15s": 15,
  "30s": 30,
  "1m": 60,
  "5m": 300,
  "15m": 900,
  "30m": 1800,
  "1h": 3600,
  "6h": 21_600,
  "1d": 86_400,
};
export const BucketSchema = z.enum(Object.keys(BUCKETS) as [string, ...string[]]);

/** A time: ms since epoch, or an ISO-8601 date-time. */
export const TimeSchema = z
  .string()
  .max(40)
  .transform((s, ctx) => {
    const t = /^\d{1,15}$/.test(s) ? Number(s) : /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : Number.NaN;
    if (!Number.isFinite(t)) {
      ctx.addIssue({ code: "custom", message: "must be ms since epoch or an ISO-8601 date-time" });
      return z.NEVER;
    }
    return t;
  });

const limit = (l: Limits) => z.coerce.number().int().min(1).max(l.maxPageSize).default(100);

export function querySchemas(l: Limits) {
  return {
    runs: z.strictObject({
      pipeline: Identifier.optional(),
      status: RunStatusSchema.optional(),
      cursor: Cursor.optional(),
      limit: limit(l),
    }),
    events: z.strictObject({
      kind: z.array(EventKindSchema).max(32).optional(),
      cursor: Cursor.optional(),
      limit: limit(l),
    }),
    stream: z.strictObject({ kind: z.array(EventKindSchema).max(32).optional() }),
    series: z.strictObject({
      run: Identifier.optional(),
      pipeline: Identifier.optional(),
      stage: Identifier.optional(),
      metric: SeriesMetricSchema.default("rows_per_s"),
      from: TimeSchema.optional(),
      to: TimeSchema.optional(),
      bucket: BucketSchema.default("1s"),
      limit: z.coerce.number().int().min(1).max(l.maxPoints).default(l.maxPoints),
    }),
    alerts: z.strictObject({
      state: z.enum(["active", "all"]).default("active"),
      run: Identifier.optional(),
      pipeline: Identifier.optional(),
      cursor: Cursor.optional(),
      limit: limit(l),
    }),
    run: z.strictObject({ run: Identifier }),
    runOptional: z.strictObject({ run: Identifier.optional() }),
    rules: z.strictObject({ pipeline: Identifier.optional() }),
    baselines: z.strictObject({ pipeline: Identifier.optional() }),
    regressions: z.strictObject({ pipeline: Identifier.optional(), run: Identifier.optional() }),
    trends: z.strictObject({
      pipeline: Identifier.optional(),
      stage: Identifier.optional(),
      runs: z.coerce.number().int().min(2).max(100).default(10),
    }),
    benchmarks: z.strictObject({
      scenario: Identifier.optional(),
      cursor: Cursor.optional(),
      limit: limit(l),
    }),
    none: z.strictObject({}),
  };
}

/** One row of `/api/trends` (`metrics/trends.ts`'s `Trend`). */
export const TrendSchema = z.object({
  pipeline: z.string(),
  stage: z.string().describe("a stage, or * for the run as a whole"),
  metric: z.enum(["rows_per_s", "p99_ms", "peak_rss_bytes"]),
  runs: z.number(),
  firstValue: z.number().nullable(),
  lastValue: z.number().nullable(),
  mean: z.number().nullable(),
  slope: z.number().nullable().describe("fitted change per run"),
  change: z.number().nullable().describe("fitted change across the window over its mean"),
  direction: z.enum(["improving", "worsening", "flat"]).nullable(),
  better: z.enum(["higher", "lower"]),
  lastRunId: z.string().nullable(),
});

export const RunIdParam = z.strictObject({ id: Identifier });
/** Alert ids are `<runId>/<rule>[/<stage>]`: identifiers joined by `/` (sent as `%2F` in a path). */
export const AlertId = z
  .string()
  .max(400)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:-]*(\/[A-Za-z0-9][A-Za-z0-9_.:-]*){0,3}$/,
    "must be an alert id: identifiers joined by / (e.g. <runId>/deadLetterRate/source)",
  );
export const AlertIdParam = z.strictObject({ id: AlertId });

/** Keys whose value may repeat (`kind=a&kind=b`, or `kind=a,b`). */
const LIST_KEYS = new Set(["kind"]);

/**
 * Validates a query string against a strict schema. Repeated keys are a 400
 * unless the key is a list; list values may also be comma-separated.
 */
export function parseQuery<S extends z.ZodType>(url: string, schema: S): z.output<S> {
  const params = new URL(url).searchParams;
  const raw: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    if (LIST_KEYS.has(key)) raw[key] = all.flatMap((v) => v.split(","));
    else if (all.length > 1) throw new BadRequestError(`query.${safeName(key)}`, "given more than once");
    else raw[key] = all[0];
  }
  return parseWith(schema, raw, "query");
}

/** Validates a value; the first issue becomes a `BadRequestError` naming the field and why. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const path = [...issue.path, key];
    throw new BadRequestError(fieldName(where, path), "unknown field");
  }
  throw new BadRequestError(fieldName(where, issue.path), issue.message);
}

function fieldName(where: string, path: ReadonlyArray<PropertyKey>): string {
  let out = where;
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `.${safeName(String(p))}`;
  return out;
}

/** Field names are echoed back; keep them printable and short. */
function safeName(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9_.:-]/g, "?");
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}

/** Response shapes (documented in the OpenAPI file; the app builds plain objects of these shapes). */
export const ErrorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});
export const PageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next: z.string().nullable() });
export const RunListItemSchema = z.object({
  runId: z.string(),
  pipeline: z.string(),
  status: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  rowsIn: z.number().nullable(),
  rowsOut: z.number().nullable(),
  deadLettered: z.number().nullable(),
  live: z.boolean(),
});
export const EventItemSchema = z.object({
  seq: z.number(),
  kind: z.string(),
  ts: z.string(),
  stage: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
});
export const SeriesResponse = z.object({
  metric: z.string(),
  bucket: z.string(),
  from: z.number(),
  to: z.number(),
  points: z.array(
    z.object({ run: z.string(), stage: z.string(), t: z.number(), value: z.number().nullable() }),
  ),
});
export const AlertItemSchema = z.object({
  alertId: z.string(),
  runId: z.string(),
  pipeline: z.string(),
  rule: z.string(),
  severity: z.string(),
  stage: z.string().nullable(),
  raisedAt: z.string(),
  resolvedAt: z.string().nullable(),
  value: z.number(),
  threshold: z.number().nullable(),
  message: z.string().nullable(),
});
export const AnyJson = z.unknown();
