/**
 * @module `/api/runs/{id}/workers`: the remote workers of a run's distributed
 * parallelMaps (`cluster.worker` events), per stage and worker: which
 * machine and process, tasks and records done, busy share of the run,
 * failures, redeliveries and the last state. Read from the run projection
 * (`ctx.runs.get`), so a live run answers from the bus and a past one from
 * the store, with the same figures (`events/internal/cluster-fold.ts`). A
 * run without remote workers answers an empty list.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { withBusyShare } from "../../events/internal/cluster-fold.ts";
import type { RunState } from "../../events/projection.ts";
import { NotFoundError } from "../errors.ts";
import type { AppContext, Env } from "../internal/context.ts";
import { sendJson } from "../internal/json.ts";
import type { RouteSpec } from "../openapi.ts";
import { parseQuery, parseWith, RunIdParam } from "../schemas.ts";

const ClusterWorkerSchema = z.object({
  stage: z.string(),
  workerId: z.string().describe("host:pid:runtime"),
  host: z.string(),
  pid: z.number(),
  runtime: z.string(),
  state: z.enum(["active", "hung", "gone"]).describe("as of the worker's last report"),
  tasks: z.number(),
  records: z.number(),
  failures: z.number(),
  busyMs: z.number(),
  busyShare: z
    .number()
    .nullable()
    .describe("busy time over the run's duration; above 1 when the worker ran tasks concurrently"),
  redelivered: z.number(),
  firstAt: z.number().describe("ms since epoch"),
  lastAt: z.number().describe("ms since epoch"),
});

export const ClusterWorkersResponse = z.object({
  runId: z.string(),
  pipeline: z.string(),
  status: z.string(),
  durationMs: z.number().nullable(),
  workers: z.array(ClusterWorkerSchema),
});

export type ClusterWorkersBody = z.output<typeof ClusterWorkersResponse>;

/** The route's answer for a run's projection. */
export function clusterWorkersOf(run: RunState): ClusterWorkersBody {
  const durationMs = run.durationMs ?? null;
  return {
    runId: run.runId,
    pipeline: run.pipeline,
    status: run.status,
    durationMs,
    workers: run.clusterWorkers.map((w) => withBusyShare(w, durationMs)),
  };
}

export function specs(ctx: AppContext): RouteSpec[] {
  return [
    {
      method: "get",
      path: "/api/runs/{id}/workers",
      summary:
        "A run's remote workers (distributed parallelMap) per stage: host, pid, runtime, tasks, records, busy share, failures, redeliveries, last state",
      params: RunIdParam,
      query: ctx.q.none,
      response: ClusterWorkersResponse,
    },
  ];
}

export function register(app: Hono<Env>, ctx: AppContext): void {
  app.get("/api/runs/:id/workers", async (c) => {
    const { id } = parseWith(RunIdParam, c.req.param(), "path");
    parseQuery(c.req.url, ctx.q.none);
    const run = await ctx.runs.get(id);
    if (!run) throw new NotFoundError(`run ${id}`);
    return sendJson(c, clusterWorkersOf(run));
  });
}
