/**
 * @module `/api/metrics`: one per-stage figure over time buckets. The metric
 * and the bucket width come from allow-lists; run, pipeline and stage are
 * identifiers; the time range and the number of points are capped. Answers
 * are reused for `seriesCacheMs` for the same query (single-flight), so a
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
  readonly at: number;
  readonly value: Promise<readonly SeriesPoint[]>;
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
    if (!hit || now - hit.at > ctx.limits.seriesCacheMs) {
      hit = { at: now, value: store.series(query) };
      if (cache.size >= 256) {
        for (const [k, v] of cache)
          if (now - v.at > ctx.limits.seriesCacheMs || cache.size >= 256) cache.delete(k);
      }
      cache.set(key, hit);
      hit.value.catch(() => cache.delete(key));
    }
    const points = await hit.value;
    return sendJson(c, { metric: q.metric, bucket: q.bucket, from, to, points });
  });
}
