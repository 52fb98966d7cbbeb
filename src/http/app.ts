/**
 * @module `createApp`: the Hono app of the HTTP API and dashboard, built from
 * its dependencies and never listening itself (`src/runtime/serve.ts` serves
 * it on Node, Bun or Deno; tests call `app.request()`).
 *
 * Middleware order: request counting and the error mapping wrap everything;
 * then the Host check (DNS rebinding; see `internal/origin.ts`); `/health`
 * answers before the other checks; then the rate limit, the body-size limit
 * (every route, `/login` included), the cross-site write check, the sign-in
 * routes, the token check, compression, the store-query pool for `/api/`,
 * then the routes.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { compress } from "hono/compress";
import type { Clock } from "../runtime/clock.ts";
import { systemClock } from "../runtime/clock.ts";
import { deadLetterSource } from "./dead-letters.ts";
import {
  PayloadTooLargeError,
  QueriesBusyError,
  RateLimitedError,
  statusOf,
  toResponseBody,
  UnauthorizedError,
} from "./errors.ts";
import { presentedToken, tokensEqual } from "./internal/auth.ts";
import type { AppContext, Env } from "./internal/context.ts";
import { checkWrite, hostPolicy } from "./internal/origin.ts";
import { QueryPool } from "./internal/query-pool.ts";
import { RateLimiter } from "./internal/rate-limit.ts";
import { LiveState } from "./live.ts";
import { openApiDocument } from "./openapi.ts";
import type { RequestCounts } from "./prometheus.ts";
import type { RedriveStarter } from "./redrive.ts";
import * as alerts from "./routes/alerts.ts";
import * as dashboard from "./routes/dashboard.ts";
import * as deadLetterRoutes from "./routes/dead-letters.ts";
import * as insights from "./routes/insights.ts";
import * as metricsRoutes from "./routes/metrics.ts";
import * as redriveRoutes from "./routes/redrive.ts";
import * as runsRoutes from "./routes/runs.ts";
import * as system from "./routes/system.ts";
import * as workersRoutes from "./routes/workers.ts";
import { liveRuns, storeRuns } from "./runs.ts";
import { querySchemas } from "./schemas.ts";
import { SseHub } from "./sse.ts";
import {
  type AuthOptions,
  DEFAULT_LIMITS,
  type Limits,
  type LiveBus,
  type MetricsQueries,
  type RunsSource,
} from "./types.ts";

export interface AppOptions {
  /** Runs: defaults to the live bus's runs, then the store's. */
  readonly runs?: RunsSource;
  /** The metrics store, or a getter when it opens later (undefined: store routes answer 503). */
  readonly metrics?: MetricsQueries | (() => MetricsQueries | undefined);
  /** The live run's bus: SSE, live projection, Prometheus counters. */
  readonly bus?: LiveBus;
  /** Cancels a live run by id (`POST /api/runs/{id}/cancel`, with writes on). */
  readonly cancel?: (runId: string) => boolean;
  readonly clock?: Clock;
  readonly auth?: AuthOptions;
  readonly limits?: Partial<Limits>;
  readonly version?: string;
  /** The state directory, for the dead-letter routes (`sluice serve`, `--serve`). */
  readonly home?: string;
  /** Starts redrives in this process (`sluice serve` builds it with the CLI's pipeline loader). */
  readonly redrive?: RedriveStarter;
}

export interface SluiceApp {
  readonly app: Hono<Env>;
  /** `app.fetch`, bound. */
  readonly fetch: (request: Request, env?: Env["Bindings"]) => Response | Promise<Response>;
  readonly live?: LiveState;
  /** Stops the live subscriptions and closes open streams. */
  close(): void;
}

/**
 * Builds the app.
 *
 * @example
 * ```ts
 * const { app } = createApp({ bus, metrics: store, auth: { token: "s3cret" } });
 * const res = await app.request("/api/runs", { headers: { Authorization: "Bearer s3cret" } });
 * ```
 */
export function createApp(options: AppOptions = {}): SluiceApp {
  const clock = options.clock ?? systemClock;
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const metricsOpt = options.metrics;
  const metrics = typeof metricsOpt === "function" ? metricsOpt : () => metricsOpt;
  const live = options.bus ? new LiveState(options.bus) : undefined;
  const hub = options.bus ? new SseHub(options.bus, clock) : undefined;
  const runs =
    options.runs ?? (live ? liveRuns({ live, store: metrics, cancel: options.cancel }) : storeRuns(metrics));
  const token = options.auth?.token || undefined;
  const ctx: AppContext = {
    runs,
    metrics,
    live,
    hub,
    clock,
    limits,
    allowWrites: options.auth?.allowWrites === true,
    q: querySchemas(limits),
    version: options.version ?? "0.1.0",
    deadLetters: options.home === undefined ? undefined : deadLetterSource(options.home, clock),
    redrive: options.redrive,
  };
  const requests: RequestCounts = new Map();
  const limiter = new RateLimiter(clock, limits.ratePerSecond, limits.burst);
  const hosts = hostPolicy(options.auth?.bindHost, options.auth?.allowedHosts);
  const pool = new QueryPool(limits.maxQueriesPerClient, limits.maxQueries);
  const client = (c: { env?: Env["Bindings"] }) => c.env?.remoteAddress ?? "local";
  // The Host a request names (`app.request()` sends none: its URL's host stands in).
  const hostOf = (c: import("hono").Context<Env>) => c.req.header("Host") ?? new URL(c.req.url).host;
  const app = new Hono<Env>();

  app.onError((err, c) => {
    if (err instanceof RateLimitedError || err instanceof QueriesBusyError)
      c.header("Retry-After", String(err.retryAfterS));
    if (err instanceof UnauthorizedError) c.header("WWW-Authenticate", 'Bearer realm="sluice"');
    const status = statusOf(err);
    if (status === 500) reportInternal(err);
    return c.json(toResponseBody(err), status);
  });
  app.notFound((c) => c.json({ error: { code: "NotFoundError", message: "no such route" } }, 404));

  app.use(async (c, next) => {
    // Set before the response exists: a header added after it is built makes
    // Hono rebuild the response, which costs more than the rest of a cached answer.
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Frame-Options", "DENY");
    await next();
    // Route templates only (never the raw path): bounded label values.
    const route = c.req.routePath === "/*" || !c.req.routePath ? "unmatched" : c.req.routePath;
    const key = `${c.req.method} ${route} ${c.res.status}`;
    const r = requests.get(key);
    if (r) r.n++;
    else if (requests.size < 1000)
      requests.set(key, { method: c.req.method, route, code: String(c.res.status), n: 1 });
  });
  app.use((c, next) => {
    hosts.check(hostOf(c));
    return next();
  });
  system.health(app);
  app.use(async (c, next) => {
    const wait = limiter.take(client(c));
    if (wait > 0) throw new RateLimitedError(wait);
    await next();
  });
  const limitBody = bodyLimit({
    maxSize: limits.maxBodyBytes,
    onError: () => {
      throw new PayloadTooLargeError(limits.maxBodyBytes);
    },
  });
  // GET and HEAD carry no body; asking for one would build the full Request on Node.
  // Every other method, `/login` included, is limited before anything reads its body.
  app.use((c, next) => {
    const m = c.req.method;
    if (m === "GET" || m === "HEAD" || m === "OPTIONS") return next();
    checkWrite(
      {
        method: m,
        path: c.req.path,
        host: hostOf(c),
        origin: c.req.header("Origin"),
        contentType: c.req.header("Content-Type"),
      },
      token !== undefined,
    );
    return limitBody(c, next);
  });
  dashboard.registerLogin(app, token);
  if (token) {
    app.use(async (c, next) => {
      const given = presentedToken(c.req.header("Authorization"), c.req.header("Cookie"));
      if (given === undefined)
        throw new UnauthorizedError("this server needs a bearer token (Authorization: Bearer …)");
      if (!(await tokensEqual(given, token))) throw new UnauthorizedError("wrong token");
      await next();
    });
  }
  const compressBody = compress();
  app.use((c, next) => {
    // Responses differ by Accept-Encoding whether or not this one is compressed.
    c.header("Vary", "Accept-Encoding");
    return c.req.header("Accept-Encoding") ? compressBody(c, next) : next();
  });
  // Store queries (every `/api/` route) take a slot of the pool until their response is built.
  app.use("/api/*", async (c, next) => {
    const release = pool.acquire(client(c));
    try {
      await next();
    } finally {
      release();
    }
  });

  const specs = [
    ...system.specs,
    ...dashboard.specs,
    ...runsRoutes.specs(ctx),
    ...deadLetterRoutes.specs(),
    ...workersRoutes.specs(ctx),
    ...redriveRoutes.specs(ctx),
    ...metricsRoutes.specs(ctx),
    ...alerts.specs(ctx),
    ...insights.specs(ctx),
  ];
  let doc: Record<string, unknown> | undefined;
  system.register(app, ctx, requests, () => {
    doc ??= openApiDocument(specs, ctx.version);
    return doc;
  });
  dashboard.register(app);
  runsRoutes.register(app, ctx);
  deadLetterRoutes.register(app, ctx);
  workersRoutes.register(app, ctx);
  redriveRoutes.register(app, ctx);
  metricsRoutes.register(app, ctx);
  alerts.register(app, ctx);
  insights.register(app, ctx);

  return {
    app,
    fetch: (request, env) => app.fetch(request, env),
    live,
    close() {
      hub?.close();
      live?.close();
    },
  };
}

/** Internal errors go to the server's log with their detail; the client gets a generic message. */
function reportInternal(err: unknown): void {
  console.error(`sluice http: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
}
