/**
 * @module Tagged errors of the HTTP layer and the one function that maps any
 * error (ours, the metrics store's, the journal's) to an HTTP status and a
 * JSON body. Route code throws; `toResponseBody` is the only place that
 * decides what a client sees, so no stack trace, SQL text or file path of
 * the server leaks into a response. Statuses come from the one table of
 * exit codes and statuses, `src/errors.ts`, which also holds the errors' base.
 */
import { errorCodesOf, type HttpStatus, TaggedError } from "../errors.ts";

export type { HttpStatus } from "../errors.ts";

/** A parameter or body failed validation; `field` names it (`query.limit`, `body.rules[0].threshold`). */
export class BadRequestError extends TaggedError {
  readonly _tag = "BadRequestError" as const;
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** No bearer token, or a wrong one. */
export class UnauthorizedError extends TaggedError {
  readonly _tag = "UnauthorizedError" as const;
  constructor(reason: string) {
    super(reason);
  }
}

/** A write route while writes are off (`--allow-writes`). */
export class WritesDisabledError extends TaggedError {
  readonly _tag = "WritesDisabledError" as const;
  constructor(route: string) {
    super(`${route} changes state and writes are off; start the server with --allow-writes to enable it`);
  }
}

export class NotFoundError extends TaggedError {
  readonly _tag = "NotFoundError" as const;
  constructor(what: string) {
    super(`${what} not found`);
  }
}

/** The request conflicts with what is going on (a redrive of the run has not completed). */
export class ConflictError extends TaggedError {
  readonly _tag = "ConflictError" as const;
  constructor(reason: string, hint?: string) {
    super(reason, { hint });
  }
}

export class PayloadTooLargeError extends TaggedError {
  readonly _tag = "PayloadTooLargeError" as const;
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

export class RateLimitedError extends TaggedError {
  readonly _tag = "RateLimitedError" as const;
  constructor(readonly retryAfterS: number) {
    super(`too many requests; retry after ${retryAfterS} s`);
  }
}

/** The Host header names a host this server does not answer to (DNS rebinding, a misrouted proxy). */
export class HostNotAllowedError extends TaggedError {
  readonly _tag = "HostNotAllowedError" as const;
  constructor(
    readonly host: string,
    allowed: readonly string[],
  ) {
    super(
      `Host "${host}" is not a name this server answers to (it answers to ${allowed.join(", ")}); ` +
        "a web page on another site may be trying DNS rebinding. If you reach the server by this name, " +
        `start it with --allowed-hosts ${host.replace(/:\d+$/, "")}`,
    );
  }
}

/** A write that a page on another site could have sent: wrong Origin, no Origin without a token, not JSON. */
export class CrossSiteWriteError extends TaggedError {
  readonly _tag = "CrossSiteWriteError" as const;
  constructor(reason: string) {
    super(reason);
  }
}

/** Too many store queries in flight, for this client (429) or for the server (503); retry later. */
export class QueriesBusyError extends TaggedError {
  readonly _tag = "QueriesBusyError" as const;
  constructor(
    readonly scope: "client" | "server",
    readonly limit: number,
    readonly retryAfterS = 1,
  ) {
    super(
      scope === "client"
        ? `this client already has ${limit} store queries in flight; wait for one to finish (retry after ${retryAfterS} s)`
        : `the server already runs ${limit} store queries; retry after ${retryAfterS} s`,
    );
  }
}

/** A dependency the route needs is absent (no metrics store, not ready yet). */
export class UnavailableError extends TaggedError {
  readonly _tag = "UnavailableError" as const;
  constructor(reason: string) {
    super(reason);
  }
}

/** The server cannot start as configured (non-loopback bind without a token, bad port). */
export class ServeConfigError extends TaggedError {
  readonly _tag = "ServeConfigError" as const;
  constructor(message: string, hint?: string) {
    super(message, { hint });
  }
}

export type HttpError =
  | BadRequestError
  | UnauthorizedError
  | WritesDisabledError
  | NotFoundError
  | ConflictError
  | PayloadTooLargeError
  | RateLimitedError
  | UnavailableError
  | HostNotAllowedError
  | CrossSiteWriteError
  | QueriesBusyError
  | ServeConfigError;

/** The JSON body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}

/** Messages safe to show as they are; anything else becomes a generic 500. */
const PUBLIC = new Set([
  "BadRequestError",
  "UnauthorizedError",
  "WritesDisabledError",
  "NotFoundError",
  "ConflictError",
  "PayloadTooLargeError",
  "RateLimitedError",
  "UnavailableError",
  "HostNotAllowedError",
  "CrossSiteWriteError",
  "QueriesBusyError",
  "MetricsConfigError",
  "MetricsStateError",
]);

function tagOf(e: unknown): string | undefined {
  const t = (e as { _tag?: unknown } | null)?._tag;
  return typeof t === "string" ? t : undefined;
}

/** The status for an error thrown by a route. */
export function statusOf(e: unknown): HttpStatus {
  if (e instanceof QueriesBusyError) return e.scope === "client" ? 429 : 503;
  const tag = tagOf(e);
  return (tag && errorCodesOf(tag)?.http) || 500;
}

/** The body for an error; internal details (SQL, paths, stacks) never leave the server. */
export function toResponseBody(e: unknown): ErrorBody {
  const tag = tagOf(e);
  const status = statusOf(e);
  if (tag && PUBLIC.has(tag)) {
    const field = e instanceof BadRequestError ? e.field : undefined;
    return { error: { code: tag, message: (e as Error).message, ...(field ? { field } : {}) } };
  }
  if (status === 503) return { error: { code: tag ?? "Unavailable", message: "metrics store unavailable" } };
  return { error: { code: "InternalError", message: "internal error; see the server log" } };
}
