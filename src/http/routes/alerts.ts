/**
 * @module `/api/alerts` (active, or with history), resolving an alert by
 * hand, and the alert rules (read, replace). Resolve and replace change
 * state: they answer 403 unless the server runs with `--allow-writes`.
 * The live server knows alerts from the bus at once; the store knows them
 * after its next flush and for past runs.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { AlertConfigSchema } from "../../metrics/alerts.ts";
import { NotFoundError, UnavailableError } from "../errors.ts";
import { type AppContext, type Env, jsonBody, requireStore, requireWrites } from "../internal/context.ts";
import { decodeCursor, encodeCursor } from "../internal/cursor.ts";
import { sendJson } from "../internal/json.ts";
import type { RouteSpec } from "../openapi.ts";
import { AlertIdParam, AlertItemSchema, PageOf, parseQuery, parseWith } from "../schemas.ts";
import type { AlertItem, Json } from "../types.ts";

/** The body of `PUT /api/rules`: the metrics layer's own alert configuration schema (strict). */
export const RulesBody = AlertConfigSchema;

export function specs(ctx: AppContext): RouteSpec[] {
  return [
    {
      method: "get",
      path: "/api/alerts",
      summary: "Alerts: `state=active` (default) or `all` (with resolved ones), newest first",
      query: ctx.q.alerts,
      response: PageOf(AlertItemSchema),
    },
    {
      method: "post",
      path: "/api/alerts/{id}/resolve",
      summary: "Resolve an active alert by hand",
      params: AlertIdParam,
      query: ctx.q.none,
      write: true,
      response: z.object({ resolved: z.boolean() }),
    },
    {
      method: "get",
      path: "/api/rules",
      summary: "The alert rules in force (for a pipeline, or the defaults)",
      query: ctx.q.rules,
      response: z.unknown(),
    },
    {
      method: "put",
      path: "/api/rules",
      summary: "Replace the alert rules of the live run's alert engine",
      body: RulesBody,
      write: true,
      response: z.unknown(),
    },
  ];
}

function strip(a: AlertItem): Omit<AlertItem, "key"> {
  const { key: _k, ...rest } = a;
  return rest;
}

export function register(app: Hono<Env>, ctx: AppContext): void {
  app.get("/api/alerts", async (c) => {
    const q = parseQuery(c.req.url, ctx.q.alerts);
    const after = q.cursor ? decodeCursor<[string]>(q.cursor, "s")[0] : undefined;
    const store = ctx.metrics();
    let items: readonly AlertItem[];
    if (store) {
      items = await store.alerts({
        state: q.state,
        run: q.run,
        pipeline: q.pipeline,
        after,
        limit: q.limit + 1,
      });
      // Alerts raised since the store's last flush are only on the bus yet.
      if (ctx.live && !after) {
        const known = new Set(items.map((a) => a.alertId));
        const fresh = ctx.live
          .alerts(q.state)
          .filter(
            (a) =>
              !known.has(a.alertId) &&
              (!q.run || a.runId === q.run) &&
              (!q.pipeline || a.pipeline === q.pipeline),
          );
        items = [...fresh, ...items];
      }
    } else if (ctx.live) {
      items = ctx.live
        .alerts(q.state)
        .filter(
          (a) =>
            (!q.run || a.runId === q.run) &&
            (!q.pipeline || a.pipeline === q.pipeline) &&
            (!after || a.key < after),
        )
        .slice(0, q.limit + 1);
    } else throw new UnavailableError("no metrics store is open in this server");
    const page = items.slice(0, q.limit);
    const next = items.length > q.limit ? encodeCursor([page[page.length - 1].key]) : null;
    return sendJson(c, { items: page.map(strip), next });
  });

  app.post("/api/alerts/:id/resolve", async (c) => {
    requireWrites(ctx, "POST /api/alerts/{id}/resolve");
    const { id } = parseWith(AlertIdParam, c.req.param(), "path");
    parseQuery(c.req.url, ctx.q.none);
    const store = requireStore(ctx);
    if (!store.resolveAlert) throw new UnavailableError("this metrics store cannot resolve alerts");
    const resolved = await store.resolveAlert(id);
    if (!resolved) throw new NotFoundError(`active alert ${id}`);
    return sendJson(c, { resolved });
  });

  app.get("/api/rules", async (c) => {
    const q = parseQuery(c.req.url, ctx.q.rules);
    return sendJson(c, await requireStore(ctx).rules(q));
  });

  app.put("/api/rules", async (c) => {
    requireWrites(ctx, "PUT /api/rules");
    parseQuery(c.req.url, ctx.q.none);
    const body = parseWith(RulesBody, await jsonBody(c), "body");
    const store = requireStore(ctx);
    if (!store.setRules) throw new UnavailableError("this metrics store cannot change rules");
    return sendJson(c, await store.setRules(body as Json));
  });
}
