/**
 * @module The one base of sluice's tagged errors, and the one table that maps each error's
 * `_tag` to a CLI exit code and an HTTP status. Every layer's `errors.ts` extends
 * {@link TaggedError}; `cli/errors.ts` and `http/errors.ts` read {@link ERROR_CODES}. The table
 * names tags as strings, so this file imports nothing and every layer may import it
 * (test/layers.test.ts); test/errors.test.ts fails when an exported error class has no row.
 */

export interface TaggedErrorOptions {
  readonly cause?: unknown;
  /** What the user can do about it, shown after the message. */
  readonly hint?: string;
}

/**
 * A sluice error: `_tag` equals the class name (and is the error's `name`), `message` says what
 * went wrong and where, `hint` what to do, `cause` the underlying error.
 *
 * @example
 * ```ts
 * class QuotaError extends TaggedError {
 *   readonly _tag = "QuotaError";
 * }
 * throw new QuotaError("out of quota", { hint: "raise --quota" });
 * ```
 */
export abstract class TaggedError extends Error {
  abstract readonly _tag: string;
  /** Hint shown after the message: what the user can do. */
  readonly hint?: string;
  constructor(message: string, options?: TaggedErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options?.hint;
  }
  override get name(): string {
    return this._tag;
  }
}

export function isTaggedError(e: unknown): e is TaggedError {
  return e instanceof TaggedError;
}

/** Process exit codes of the CLI. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export type HttpStatus = 400 | 401 | 403 | 404 | 409 | 413 | 429 | 500 | 503;

export interface ErrorCodes {
  /** What `sluice` exits with when this error ends a command. */
  readonly exit: ExitCode;
  /** The HTTP status of a response for this error (500: internal, its message is not shown). */
  readonly http: HttpStatus;
}

const failed = EXIT.failed;

/**
 * Exit code and HTTP status by tag, for every exported error class. Errors that never reach
 * one of the two (a record error does not end a command; a CLI usage error is never an HTTP
 * response) keep the defaults: exit 1, status 500.
 */
export const ERROR_CODES = {
  // pipeline/errors.ts
  ConfigError: { exit: EXIT.usage, http: 500 },
  PipelineLoadError: { exit: EXIT.usage, http: 500 },
  SourceError: { exit: failed, http: 500 },
  SinkError: { exit: failed, http: 500 },
  StageError: { exit: failed, http: 500 },
  CancelledError: { exit: failed, http: 500 },
  StateError: { exit: failed, http: 500 },
  // operators/errors.ts (record errors: dead letters, not run failures)
  TimeoutError: { exit: failed, http: 500 },
  CircuitOpenError: { exit: failed, http: 500 },
  BulkheadFullError: { exit: failed, http: 500 },
  WorkerModuleError: { exit: failed, http: 500 },
  PoolClosedError: { exit: failed, http: 500 },
  // journal/errors.ts
  JournalWriteError: { exit: failed, http: 500 },
  JournalCorruptionError: { exit: failed, http: 500 },
  JournalVersionError: { exit: failed, http: 500 },
  JournalClosedError: { exit: failed, http: 500 },
  JournalEncodeError: { exit: failed, http: 500 },
  JournalOptionsError: { exit: failed, http: 500 },
  JournalPositionError: { exit: failed, http: 500 },
  JournalReadError: { exit: failed, http: 500 },
  JournalOpenError: { exit: failed, http: 500 },
  // metrics/errors.ts
  MetricsConfigError: { exit: failed, http: 400 },
  MetricsNotFoundError: { exit: failed, http: 503 },
  MetricsLockedError: { exit: failed, http: 503 },
  MetricsSchemaError: { exit: failed, http: 503 },
  MetricsFileError: { exit: failed, http: 503 },
  MetricsAccessError: { exit: failed, http: 503 },
  MetricsStateError: { exit: failed, http: 409 },
  MetricsQueryError: { exit: failed, http: 500 },
  MetricsWriteError: { exit: failed, http: 500 },
  // http/errors.ts
  BadRequestError: { exit: failed, http: 400 },
  UnauthorizedError: { exit: failed, http: 401 },
  WritesDisabledError: { exit: failed, http: 403 },
  NotFoundError: { exit: failed, http: 404 },
  ConflictError: { exit: failed, http: 409 },
  PayloadTooLargeError: { exit: failed, http: 413 },
  RateLimitedError: { exit: failed, http: 429 },
  HostNotAllowedError: { exit: failed, http: 403 },
  CrossSiteWriteError: { exit: failed, http: 403 },
  // 429 for one client's queries; statusOf answers 503 when the server's pool is full.
  QueriesBusyError: { exit: failed, http: 429 },
  UnavailableError: { exit: failed, http: 503 },
  ServeConfigError: { exit: failed, http: 500 },
  // cli/errors.ts
  UsageError: { exit: EXIT.usage, http: 500 },
} as const satisfies Readonly<Record<string, ErrorCodes>>;

export type ErrorTag = keyof typeof ERROR_CODES;

/** The row for a tag, or undefined for a tag not in the table. */
export function errorCodesOf(tag: string): ErrorCodes | undefined {
  return Object.hasOwn(ERROR_CODES, tag) ? ERROR_CODES[tag as ErrorTag] : undefined;
}
