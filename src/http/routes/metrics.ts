/**
 * @module `/api/metrics`: one per-stage figure over time buckets. The metric
 * and the bucket width come from allow-lists; run, pipeline and stage are
 * identifiers; the time range and the number of points are capped. Answers
 * are reused for the same query (single-flight) and refreshed in the background
 * once older than `seriesCacheMs` (the stale answer is served meanwhile), so a
 * dashboard polled by many clients costs the store one query per interval.
 */
import type { Hono } from "hono";
import { BadRequestError } from "../errors.ts";
import { type AppContext, type Env, requireStore } from "../internal/context.ts";
import { sendJson } from "../internal/json.ts";
import type { RouteSpec } from "../openapi.ts";
import { BUCKETS, parseQuery, SeriesResponse } from "../schemas.ts";
import type { SeriesPoint, SeriesQuery } from "../types.ts";

export function specs(ctx: AppContext): RouteSpec[] {
  return [
    {
      method: "get",
      path: "/api/metrics",
      summary: "A per-stage metric in time buckets (default: rows_per_s over the last hour in 1 s buckets)",
      query: ctx.q.series,
      response: SeriesResponse,
    },
  ];
}

interface CacheEntry {
  at: number;
  value: Promise<readonly SeriesPoint[]>;
  /** A refresh in flight; the previous value is served meanwhile. */
  refreshing?: Promise<readonly SeriesPoint[]>;
}

export function register(app: Hono<Env>, ctx: AppContext): void {
  const cache = new Map<string, CacheEntry>();
  const DEFAULT_SPAN_MS = 3600_000;

  app.get("/api/metrics", async (c) => {
    const q = parseQuery(c.req.url, ctx.q.series);
    const bucketS = BUCKETS[q.bucket];
    const bucketMs = bucketS * 1000;
    // Bucket-aligned bounds, so repeated polls within a bucket are the same query.
    const to = Math.ceil((q.to ?? ctx.clock.now()) / bucketMs) * bucketMs;
    const from = Math.floor((q.from ?? to - DEFAULT_SPAN_MS) / bucketMs) * bucketMs;
    if (from >= to) throw new BadRequestError("query.from", "must be before `to`");
    if (to - from > ctx.limits.maxRangeMs)
      throw new BadRequestError(
        "query.from",
        `time range longer than ${Math.round(ctx.limits.maxRangeMs / 86_400_000)} days`,
      );
    if ((to - from) / bucketMs > ctx.limits.maxPoints)
      throw new BadRequestError(
        "query.bucket",
        `more than ${ctx.limits.maxPoints} buckets in the range; use a wider bucket`,
      );
    const store = requireStore(ctx);
    const query: SeriesQuery = {
      run: q.run,
      pipeline: q.pipeline,
      stage: q.stage,
      metric: q.metric,
      from,
      to,
      bucketS,
      limit: q.limit,
    };
    const key = JSON.stringify(query);
    const now = ctx.clock.monotonic();
    let hit = cache.get(key);
    if (!hit) {
      if (cache.size >= 256) cache.delete(cache.keys().next().value as string);
      const entry: CacheEntry = { at: now, value: store.series(query) };
      hit = entry;
      cache.set(key, entry);
      entry.value.catch(() => cache.delete(key));
    } else if (now - hit.at > ctx.limits.seriesCacheMs && !hit.refreshing) {
      // Stale: refresh once in the background and keep serving the last answer meanwhile.
      const entry = hit;
      const next = store.series(query);
      entry.refreshing = next;
      next.then(
        () => {
          entry.value = next;
          entry.at = ctx.clock.monotonic();
          entry.refreshing = undefined;
        },
        () => {
          entry.refreshing = undefined;
        },
      );
    }
    const points = await hit.value;
    return sendJson(c, { metric: q.metric, bucket: q.bucket, from, to, points });
  });
}
