/**
 * @module `/api/metrics`: one per-stage figure over time buckets. The metric
 * and the bucket width come from allow-lists; run, pipeline and stage are
 * identifiers; the time range and the number of points are capped. Answers
 * are reused for the same query (single-flight) and refreshed in the background
 * once older than `seriesCacheMs` (the stale answer is served meanwhile), so a
 * dashboard polled by many clients costs the store one query per interval.
 *
 * A run this server follows on the bus is answered from the live series
 * (`live-series.ts`: the same figures from the same events, no store query),
 * encoded once per change of the run's series or of the window (at most once
 * per `seriesCacheMs` while the run reports), so repeated polls cost a lookup
 * (and a 304 when the client sends the ETag back). Runs and ranges the live
 * series does not hold go to the store.
 */
import type { Hono } from "hono";
import type { z } from "zod";
import { BadRequestError } from "../errors.ts";
import { type AppContext, type Env, requireStore } from "../internal/context.ts";
import { type Encoded, encodeJson, sendEncoded } from "../internal/json.ts";
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

interface Answer {
  readonly from: number;
  readonly to: number;
  readonly points: readonly SeriesPoint[];
}

interface CacheEntry {
  at: number;
  value: Promise<Encoded>;
  /** A refresh in flight; the previous answer is served meanwhile. */
  refreshing?: Promise<Encoded>;
}

interface LiveEntry {
  readonly version: number;
  readonly from: number;
  readonly to: number;
  /** When it was made (monotonic ms). */
  readonly at: number;
  readonly value: Promise<Encoded>;
  /** Body bytes once encoded (what the cache's byte budget counts). */
  bytes: number;
}

/** Most body bytes the live answers cache keeps. */
const LIVE_CACHE_BYTES = 32 * 1024 * 1024;

export function register(app: Hono<Env>, ctx: AppContext): void {
  const cache = new Map<string, CacheEntry>();
  /** Live answers: valid while the run's series version and the range are the same. */
  const liveCache = new Map<string, LiveEntry>();
  let liveBytes = 0;
  /** Validated queries by URL: pollers repeat the same few, and need not be parsed again. */
  const parsed = new Map<string, { q: z.output<AppContext["q"]["series"]>; key: string }>();
  const DEFAULT_SPAN_MS = 3600_000;

  /** Bucket-aligned bounds; a query without `to` means "up to now", recomputed at each refresh. */
  const range = (q: { from?: number; to?: number }, bucketMs: number) => {
    const to = Math.ceil((q.to ?? ctx.clock.now()) / bucketMs) * bucketMs;
    const from = Math.floor((q.from ?? to - DEFAULT_SPAN_MS) / bucketMs) * bucketMs;
    return { from, to };
  };

  const encode = (metric: string, bucket: string, answer: Answer): Promise<Encoded> =>
    encodeJson({ metric, bucket, ...answer });

  app.get("/api/metrics", async (c) => {
    let known = parsed.get(c.req.url);
    if (!known) {
      const q = parseQuery(c.req.url, ctx.q.series);
      // The key holds what the client asked (not the clock), so a dashboard polling
      // "the last hour" shares one entry however often the window moves.
      const key = JSON.stringify([q.run, q.pipeline, q.stage, q.metric, q.bucket, q.from, q.to, q.limit]);
      known = { q, key };
      if (c.req.url.length <= 1024) {
        if (parsed.size >= 256) parsed.delete(parsed.keys().next().value as string);
        parsed.set(c.req.url, known);
      }
    }
    const { q, key } = known;
    const bucketS = BUCKETS[q.bucket];
    const bucketMs = bucketS * 1000;
    const { from, to } = range(q, bucketMs);
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
    const toQuery = (r: { from: number; to: number }): SeriesQuery => ({
      run: q.run,
      pipeline: q.pipeline,
      stage: q.stage,
      metric: q.metric,
      from: r.from,
      to: r.to,
      bucketS,
      limit: q.limit,
    });

    // A run this server follows on the bus: answered from its buckets, no store query.
    const series = ctx.live?.series;
    const version = q.run === undefined ? undefined : series?.version(q.run);
    if (series && version !== undefined) {
      const held = liveCache.get(key);
      // Reused while nothing changed, and for `seriesCacheMs` at most after the run moved on:
      // a long run's series is large, and a run may report many times a second.
      if (
        held &&
        held.from === from &&
        held.to === to &&
        (held.version === version || ctx.clock.monotonic() - held.at < ctx.limits.seriesCacheMs)
      ) {
        return sendEncoded(c, await held.value);
      }
      const points = series.answer(toQuery({ from, to }));
      if (points) {
        const value = encode(q.metric, q.bucket, { from, to, points });
        const entry: LiveEntry = { version, from, to, at: ctx.clock.monotonic(), value, bytes: 0 };
        liveBytes -= held?.bytes ?? 0;
        liveCache.delete(key);
        liveCache.set(key, entry);
        const answer = await value;
        if (liveCache.get(key) === entry) {
          entry.bytes = answer.bytes;
          liveBytes += answer.bytes;
          // Bounded by entries and by bytes (a long run's 1 s series is large), oldest first.
          for (const [k, e] of liveCache) {
            if (liveCache.size <= 256 && liveBytes <= LIVE_CACHE_BYTES) break;
            liveCache.delete(k);
            liveBytes -= e.bytes;
          }
        }
        return sendEncoded(c, answer);
      }
    }

    const store = requireStore(ctx);
    const fetch = async (): Promise<Encoded> => {
      // A rolling window ("up to now") moves on each refresh; a fixed one stays.
      const r = range(q, bucketMs);
      return encode(q.metric, q.bucket, { ...r, points: await store.series(toQuery(r)) });
    };
    const now = ctx.clock.monotonic();
    let hit = cache.get(key);
    if (!hit) {
      if (cache.size >= 256) cache.delete(cache.keys().next().value as string);
      const entry: CacheEntry = { at: now, value: fetch() };
      hit = entry;
      cache.set(key, entry);
      entry.value.catch(() => cache.delete(key));
    } else if (now - hit.at > ctx.limits.seriesCacheMs && !hit.refreshing) {
      // Stale: refresh once in the background and keep serving the last answer meanwhile.
      const entry = hit;
      const next = fetch();
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
    return sendEncoded(c, await hit.value);
  });
}
