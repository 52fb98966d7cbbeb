/**
 * @module `POST /api/runs/{id}/redrive` (with `--allow-writes`): `sluice
 * redrive` over HTTP. Starts a redrive of the run's dead letters still dead
 * (filtered by stage, reason, input line) through the fixed pipeline file,
 * in the server's process (`../redrive.ts`), and answers 202 with the
 * redrive's run id once it has started; its progress is the runs routes'
 * (it is journaled like any run), its outcome the dead-letter routes'.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { UnavailableError } from "../errors.ts";
import { type AppContext, type Env, jsonBody, requireWrites } from "../internal/context.ts";
import { sendJson } from "../internal/json.ts";
import type { RouteSpec } from "../openapi.ts";
import { parseQuery, parseWith, RunIdParam } from "../schemas.ts";
import { ReasonPart, StageName } from "./dead-letters.ts";

/**
 * A pipeline file relative to the server's directory: path segments of
 * letters, digits and `_ . @ + -` (and spaces) joined by `/`, no `..`,
 * ending .ts/.mts/.js/.mjs. Where it leads (symbolic links) is checked when
 * the redrive starts.
 */
const PipelinePath = z
  .string()
  .min(1)
  .max(1024)
  .regex(
    /^[\p{L}\p{N}_.@+ -]+(\/[\p{L}\p{N}_.@+ -]+)*$/u,
    "must be a path relative to the server's directory: segments of letters, digits, spaces and _ . @ + - joined by /",
  )
  .refine((s) => !s.split("/").includes(".."), "must not contain '..'")
  .refine((s) => /\.(ts|mts|js|mjs)$/.test(s), "must be a .ts, .mts, .js or .mjs file")
  .describe("the fixed pipeline file, relative to the server's working directory (default: the run's own)");

export const RedriveBody = z.strictObject({
  pipeline: PipelinePath.optional(),
  stage: StageName.optional(),
  reason: ReasonPart.optional().describe("part of the reason (as written or as grouped)"),
  line: z.number().int().positive().optional().describe("the input line the record starts on"),
});

const Started = z.object({
  run: z.string().optional().describe("the redrive's run id (absent when no letter matched)"),
  of: z.string().describe("the run redriven"),
  taken: z.number().describe("letters taken"),
});

export function specs(ctx: AppContext): RouteSpec[] {
  return [
    {
      method: "post",
      path: "/api/runs/{id}/redrive",
      summary:
        "Redrive the run's dead letters still dead (filtered) through the fixed pipeline, as a journaled run of its own",
      params: RunIdParam,
      query: ctx.q.none,
      body: RedriveBody,
      write: true,
      response: Started,
      more: {
        "202":
          "The redrive run has started (follow it at /api/runs/{run}); 200 with taken 0 and no run when no letter matched",
        "409":
          "A redrive of this run has not completed (this server's, or one to finish with `sluice resume`)",
      },
    },
  ];
}

export function register(app: Hono<Env>, ctx: AppContext): void {
  app.post("/api/runs/:id/redrive", async (c) => {
    requireWrites(ctx, "POST /api/runs/{id}/redrive");
    const { id } = parseWith(RunIdParam, c.req.param(), "path");
    parseQuery(c.req.url, ctx.q.none);
    const body = parseWith(RedriveBody, await jsonBody(c), "body");
    if (!ctx.redrive)
      throw new UnavailableError(
        "this server cannot start redrives: it has no state directory (start `sluice serve` from the pipeline's directory)",
      );
    const started = await ctx.redrive.start(id, body);
    return sendJson(c, started, started.run ? 202 : 200);
  });
}
