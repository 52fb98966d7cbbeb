/**
 * @module What every route module receives: the validated dependencies, the
 * schemas built for the configured limits, and small helpers shared by the
 * routes (require the store, require writes, read a JSON body).
 */
import type { Context } from "hono";
import type { Clock } from "../../runtime/clock.ts";
import type { DeadLetterSource } from "../dead-letters.ts";
import { BadRequestError, UnavailableError, WritesDisabledError } from "../errors.ts";
import type { LiveState } from "../live.ts";
import type { RedriveStarter } from "../redrive.ts";
import type { querySchemas } from "../schemas.ts";
import type { SseHub } from "../sse.ts";
import type { Limits, MetricsQueries, RunsSource } from "../types.ts";

export interface Env {
  Bindings: { remoteAddress?: string };
}

export interface AppContext {
  readonly runs: RunsSource;
  readonly metrics: () => MetricsQueries | undefined;
  readonly live?: LiveState;
  readonly hub?: SseHub;
  readonly clock: Clock;
  readonly limits: Limits;
  readonly allowWrites: boolean;
  readonly q: ReturnType<typeof querySchemas>;
  readonly version: string;
  /** A run's dead-letter queue (`/api/runs/{id}/dead-letters`); undefined: no state directory. */
  readonly deadLetters?: DeadLetterSource;
  /** Starts redrives (`POST /api/runs/{id}/redrive`); undefined: this server cannot (no state directory). */
  readonly redrive?: RedriveStarter;
}

export function requireStore(ctx: AppContext): MetricsQueries {
  const m = ctx.metrics();
  if (!m) throw new UnavailableError("no metrics store is open in this server");
  return m;
}

export function requireWrites(ctx: AppContext, route: string): void {
  if (!ctx.allowWrites) throw new WritesDisabledError(route);
}

/** The request body as JSON (the body-size limit has already applied). */
export async function jsonBody(c: Context): Promise<unknown> {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type))
    throw new BadRequestError("body", "expected Content-Type: application/json");
  try {
    return await c.req.json();
  } catch {
    throw new BadRequestError("body", "not valid JSON");
  }
}
