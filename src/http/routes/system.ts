/**
 * @module Liveness, readiness, Prometheus text and the OpenAPI document.
 * `/health` answers without a token (a liveness probe must not need one);
 * `/ready` asks the store for a trivial answer when one is configured.
 */
import type { Hono } from "hono";
import { z } from "zod";
import type { AppContext, Env } from "../internal/context.ts";
import type { RouteSpec } from "../openapi.ts";
import { type RequestCounts, renderPrometheus } from "../prometheus.ts";
import { CompletedRunsExporter } from "../prometheus-runs.ts";

export const specs: RouteSpec[] = [
  {
    method: "get",
    path: "/health",
    summary: "Liveness",
    public: true,
    response: z.object({ status: z.literal("ok") }),
  },
  {
    method: "get",
    path: "/ready",
    summary: "Readiness: the metrics store answers (503 when not)",
    response: z.object({ status: z.literal("ready"), live: z.boolean(), store: z.boolean() }),
  },
  {
    method: "get",
    path: "/metrics",
    summary: "Prometheus text exposition",
    produces: "text/plain; version=0.0.4",
  },
  { method: "get", path: "/openapi.json", summary: "This document" },
];

export function health(app: Hono<Env>): void {
  app.get("/health", (c) => c.json({ status: "ok" }));
}

export function register(
  app: Hono<Env>,
  ctx: AppContext,
  requests: RequestCounts,
  doc: () => Record<string, unknown>,
): void {
  app.get("/ready", async (c) => {
    const store = ctx.metrics();
    if (store) {
      try {
        await store.ping();
      } catch {
        return c.json({ status: "not ready", live: Boolean(ctx.live), store: false }, 503);
      }
    } else if (!ctx.live) {
      return c.json({ status: "not ready", live: false, store: false }, 503);
    }
    return c.json({ status: "ready", live: Boolean(ctx.live), store: Boolean(store) });
  });
  const completed = new CompletedRunsExporter();
  const STORE_WAIT_MS = 2000;
  app.get("/metrics", async (c) => {
    c.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    c.header("Cache-Control", "no-store");
    let text = renderPrometheus(ctx.live, requests);
    const store = ctx.metrics();
    if (store) {
      // Each pipeline's latest completed run from the store; a store that fails says so in its own gauge.
      // A scrape never waits on a busy store for long: past STORE_WAIT_MS it reports the store down.
      let up = 1;
      const stop = new AbortController();
      try {
        const timedOut = ctx.clock.sleep(STORE_WAIT_MS, stop.signal).then(() => {
          throw new Error("the metrics store did not answer in time");
        });
        timedOut.catch(() => {}); // the abort below rejects it once the store answered
        text += await Promise.race([completed.render(store), timedOut]);
      } catch {
        up = 0;
      } finally {
        stop.abort();
      }
      text += `# HELP sluice_metrics_store_up Whether the metrics store answered this scrape.\n# TYPE sluice_metrics_store_up gauge\nsluice_metrics_store_up ${up}\n`;
    }
    return c.body(text);
  });
  app.get("/openapi.json", (c) => c.json(doc()));
}
