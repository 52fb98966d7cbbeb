/**
 * @module `/api/runs/{id}/dead-letters`: a run's dead letters as a queue —
 * grouped by stage and normalised reason (counts, first/last, samples, and
 * `series`: letters per bucket of their time range, `?buckets=` of them), and
 * the letters themselves — filtered like `sluice dlq` (read-only; a redrive is
 * started with `sluice redrive` or `POST /api/runs/{id}/redrive`, `redrive.ts`).
 * A pipeline name stands for its latest run.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { DEFAULT_BUCKETS, MAX_BUCKETS } from "../../dlq/timeline.ts";
import { UnavailableError } from "../errors.ts";
import type { AppContext, Env } from "../internal/context.ts";
import { sendJson } from "../internal/json.ts";
import type { RouteSpec } from "../openapi.ts";
import { Identifier, parseQuery, parseWith, RunIdParam, TimeSchema } from "../schemas.ts";

/**
 * Part of a reason, as `sluice dlq` groups show it (`"…"`, `<n>` included):
 * words, digits, spaces and `_ . , : ( ) < > " … # + -`. Quotes `'`, `;`,
 * `=`, `/`, `\` and `*` are refused: the filter is matched as text, but a
 * parameter that looks like SQL or a path is a 400 naming it, never a guess.
 */
export const ReasonPart = z
  .string()
  .min(1)
  .max(400)
  .regex(
    /^[\p{L}\p{N} _.,:()<>"…#+-]+$/u,
    "must be part of a reason: letters, digits, spaces and _ . , : ( ) < > \" … # + - (no ' ; = / \\ *)",
  )
  .refine((s) => !s.includes(".."), "must not contain '..'");

/** A stage name, as letters show it. */
export const StageName = Identifier.describe("a stage name, e.g. 2:map");

const Filter = {
  stage: StageName.optional(),
  reason: ReasonPart.optional(),
  status: z.enum(["dead", "redriven", "all"]).optional(),
  since: TimeSchema.optional().describe("ms since epoch or an ISO-8601 date-time"),
  until: TimeSchema.optional().describe("ms since epoch or an ISO-8601 date-time"),
};
const GroupsQuery = z.strictObject({
  ...Filter,
  buckets: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_BUCKETS)
    .default(DEFAULT_BUCKETS)
    .describe("how many time buckets each group's series has"),
});
const LettersQuery = z.strictObject({
  ...Filter,
  line: z.coerce.number().int().positive().optional(),
  index: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function specs(): RouteSpec[] {
  return [
    {
      method: "get",
      path: "/api/runs/{id}/dead-letters",
      summary:
        "A run's dead letters grouped by stage and normalised reason, with counts (dead + redriven), samples and letters per time bucket",
      params: RunIdParam,
      query: GroupsQuery,
      response: z.record(z.string(), z.unknown()),
    },
    {
      method: "get",
      path: "/api/runs/{id}/dead-letters/letters",
      summary: "A run's dead letters: position, stage, attempts, reason, error, raw input, record",
      params: RunIdParam,
      query: LettersQuery,
      response: z.record(z.string(), z.unknown()),
    },
  ];
}

export function register(app: Hono<Env>, ctx: AppContext): void {
  const source = () => {
    if (!ctx.deadLetters)
      throw new UnavailableError("this server has no state directory to read dead letters from");
    return ctx.deadLetters;
  };
  app.get("/api/runs/:id/dead-letters", async (c) => {
    const { id } = parseWith(RunIdParam, c.req.param(), "path");
    const { buckets, ...q } = parseQuery(c.req.url, GroupsQuery);
    return sendJson(c, await source().groups(id, q, buckets));
  });
  app.get("/api/runs/:id/dead-letters/letters", async (c) => {
    const { id } = parseWith(RunIdParam, c.req.param(), "path");
    const { limit, ...q } = parseQuery(c.req.url, LettersQuery);
    return sendJson(c, await source().letters(id, q, limit));
  });
}
