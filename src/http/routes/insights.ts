/**
 * @module Analyses of the metrics store: the bottleneck of a run, the
 * recommendations derived from its figures, baselines, regressions and
 * trends per pipeline, and benchmark results (cursor-paginated).
 */
import type { Hono } from "hono";
import { z } from "zod";
import { NotFoundError, UnavailableError } from "../errors.ts";
import { type AppContext, type Env, requireStore } from "../internal/context.ts";
import { decodeCursor, encodeCursor } from "../internal/cursor.ts";
import { sendJson } from "../internal/json.ts";
import type { RouteSpec } from "../openapi.ts";
import { PageOf, parseQuery, TrendSchema } from "../schemas.ts";

export function specs(ctx: AppContext): RouteSpec[] {
  const any = z.unknown();
  return [
    {
      method: "get",
      path: "/api/bottlenecks",
      summary: "The stage that limits a run, with evidence",
      query: ctx.q.run,
      response: any,
    },
    {
      method: "get",
      path: "/api/recommendations",
      summary: "What to change, from a run's figures",
      query: ctx.q.run,
      response: any,
    },
    {
      method: "get",
      path: "/api/baselines",
      summary: "Baselines per pipeline (and scenario)",
      query: ctx.q.baselines,
      response: any,
    },
    {
      method: "get",
      path: "/api/regressions",
      summary: "Runs that regressed against their baseline",
      query: ctx.q.regressions,
      response: any,
    },
    {
      method: "get",
      path: "/api/trends",
      summary:
        "Slope and direction of rows/s, p99 and peak RSS per pipeline and stage over the last N completed runs (default 10)",
      query: ctx.q.trends,
      response: z.array(TrendSchema),
    },
    {
      method: "get",
      path: "/api/benchmarks",
      summary: "Benchmark results, newest first",
      query: ctx.q.benchmarks,
      response: PageOf(z.record(z.string(), z.unknown())),
    },
  ];
}

export function register(app: Hono<Env>, ctx: AppContext): void {
  app.get("/api/bottlenecks", async (c) => {
    const q = parseQuery(c.req.url, ctx.q.run);
    const r = await requireStore(ctx).bottlenecks(q.run);
    if (r === undefined) throw new NotFoundError(`run ${q.run}`);
    return sendJson(c, r);
  });
  app.get("/api/recommendations", async (c) => {
    const q = parseQuery(c.req.url, ctx.q.run);
    const r = await requireStore(ctx).recommendations(q.run);
    if (r === undefined) throw new NotFoundError(`run ${q.run}`);
    return sendJson(c, r);
  });
  app.get("/api/baselines", async (c) => {
    const q = parseQuery(c.req.url, ctx.q.baselines);
    return sendJson(c, await requireStore(ctx).baselines(q));
  });
  app.get("/api/regressions", async (c) => {
    const q = parseQuery(c.req.url, ctx.q.regressions);
    return sendJson(c, await requireStore(ctx).regressions(q));
  });
  app.get("/api/trends", async (c) => {
    const q = parseQuery(c.req.url, ctx.q.trends);
    const store = requireStore(ctx);
    if (!store.trends) throw new UnavailableError("this server's metrics store has no trends");
    return sendJson(c, await store.trends(q));
  });
  app.get("/api/benchmarks", async (c) => {
    const q = parseQuery(c.req.url, ctx.q.benchmarks);
    const after = q.cursor ? decodeCursor<[string]>(q.cursor, "s")[0] : undefined;
    const items = await requireStore(ctx).benchmarks({ scenario: q.scenario, after, limit: q.limit + 1 });
    const page = items.slice(0, q.limit);
    const last = page[page.length - 1];
    const next = items.length > q.limit && last ? encodeCursor([String(last.key ?? "")]) : null;
    return sendJson(c, { items: page, next });
  });
}
