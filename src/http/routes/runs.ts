/**
 * @module `/api/runs`: the list (newest first, cursor-paginated), one run's
 * status/progress projection, its events (cursor-paginated, filtered by
 * kind), its live event stream (SSE, batched every 100 ms) and, with
 * `--allow-writes`, cancelling the live run.
 */
import type { Hono } from "hono";
import { z } from "zod";
import type { EventKind } from "../../events/schema.ts";
import { NotFoundError, UnavailableError } from "../errors.ts";
import { type AppContext, type Env, requireWrites } from "../internal/context.ts";
import { decodeCursor, encodeCursor } from "../internal/cursor.ts";
import { sendJson } from "../internal/json.ts";
import type { RouteSpec } from "../openapi.ts";
import { EventItemSchema, PageOf, parseQuery, parseWith, RunIdParam, RunListItemSchema } from "../schemas.ts";

export function specs(ctx: AppContext): RouteSpec[] {
  return [
    {
      method: "get",
      path: "/api/runs",
      summary: "Runs, newest first",
      query: ctx.q.runs,
      response: PageOf(RunListItemSchema),
    },
    {
      method: "get",
      path: "/api/runs/{id}",
      summary: "A run's status and progress (the run projection)",
      params: RunIdParam,
      response: z.record(z.string(), z.unknown()),
    },
    {
      method: "get",
      path: "/api/runs/{id}/events",
      summary: "A run's durable events in order, optionally of some kinds",
      params: RunIdParam,
      query: ctx.q.events,
      response: PageOf(EventItemSchema),
    },
    {
      method: "get",
      path: "/api/runs/{id}/stream",
      summary: "Live events of a run as Server-Sent Events: a `snapshot`, then a `batch` every 100 ms",
      params: RunIdParam,
      query: ctx.q.stream,
      produces: "text/event-stream",
    },
    {
      method: "post",
      path: "/api/runs/{id}/cancel",
      summary: "Cancel the live run (stop reading, checkpoint, end as interrupted)",
      params: RunIdParam,
      query: ctx.q.none,
      write: true,
      response: z.object({ cancelled: z.boolean() }),
    },
  ];
}

export function register(app: Hono<Env>, ctx: AppContext): void {
  app.get("/api/runs", async (c) => {
    const q = parseQuery(c.req.url, ctx.q.runs);
    const before = q.cursor ? decodeCursor<[string]>(q.cursor, "s")[0] : undefined;
    const items = await ctx.runs.list({ pipeline: q.pipeline, status: q.status, before, limit: q.limit + 1 });
    const page = items.slice(0, q.limit);
    const next = items.length > q.limit ? encodeCursor([page[page.length - 1].runId]) : null;
    return sendJson(c, { items: page, next });
  });

  app.get("/api/runs/:id", async (c) => {
    const { id } = parseWith(RunIdParam, c.req.param(), "path");
    parseQuery(c.req.url, ctx.q.none);
    const run = await ctx.runs.get(id);
    if (!run) throw new NotFoundError(`run ${id}`);
    const progress = run.totalBytes ? Math.min(1, run.bytes / run.totalBytes) : null;
    return sendJson(c, { ...run, progress });
  });

  app.get("/api/runs/:id/events", async (c) => {
    const { id } = parseWith(RunIdParam, c.req.param(), "path");
    const q = parseQuery(c.req.url, ctx.q.events);
    const after = q.cursor ? decodeCursor<[number]>(q.cursor, "n")[0] : undefined;
    const items = await ctx.runs.events(id, {
      after,
      kinds: q.kind as EventKind[] | undefined,
      limit: q.limit + 1,
    });
    if (!items) throw new NotFoundError(`run ${id}`);
    const page = items.slice(0, q.limit);
    const next = items.length > q.limit ? encodeCursor([page[page.length - 1].seq]) : null;
    return sendJson(c, { items: page, next });
  });

  app.get("/api/runs/:id/stream", async (c) => {
    const { id } = parseWith(RunIdParam, c.req.param(), "path");
    const q = parseQuery(c.req.url, ctx.q.stream);
    const run = await ctx.runs.get(id);
    if (!run) throw new NotFoundError(`run ${id}`);
    const snapshot = `event: snapshot\ndata: ${JSON.stringify(run)}\n\n`;
    c.header("Content-Type", "text/event-stream; charset=utf-8");
    c.header("Cache-Control", "no-store");
    c.header("X-Accel-Buffering", "no");
    if (!ctx.hub) {
      // A past run: its state, then the end of the stream.
      return c.body(`${snapshot}event: end\ndata: {}\n\n`);
    }
    if (ctx.hub.size >= ctx.limits.maxStreams) throw new UnavailableError("too many open event streams");
    return c.body(ctx.hub.open(id, q.kind, `retry: 2000\n\n${snapshot}`));
  });

  app.post("/api/runs/:id/cancel", async (c) => {
    requireWrites(ctx, "POST /api/runs/{id}/cancel");
    const { id } = parseWith(RunIdParam, c.req.param(), "path");
    parseQuery(c.req.url, ctx.q.none);
    if (!ctx.runs.cancel) throw new NotFoundError(`live run ${id}`);
    const cancelled = await ctx.runs.cancel(id);
    if (!cancelled) throw new NotFoundError(`live run ${id}`);
    return sendJson(c, { cancelled });
  });
}
