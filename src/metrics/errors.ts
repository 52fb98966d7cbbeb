/**
 * @module Tagged errors of the metrics layer. Each names the file or the SQL
 * involved and what to do; `_tag` equals the class name so the CLI and the
 * HTTP API map them to exit codes and statuses by tag (`src/errors.ts`, which
 * also holds their base).
 */
import { TaggedError } from "../errors.ts";
import { MetricsConfigError } from "../pipeline/errors.ts";

/** The metrics file is held by another process (DESIGN §4: one writer owns it). */
export class MetricsLockedError extends TaggedError {
  readonly _tag = "MetricsLockedError" as const;
  constructor(
    readonly path: string,
    /** Process id of the holder, when DuckDB reports it. */
    readonly pid: number | undefined,
    override readonly cause?: unknown,
  ) {
    super(
      `The metrics database ${path} is in use by ${pid === undefined ? "another process" : `process ${pid}`}. ` +
        "Only one process writes it: query the running pipeline through its HTTP API (`sluice run --serve`), " +
        "or wait until it ends. Events of a run that could not write here stay in its journal and are loaded on the next start.",
      { cause },
    );
  }
}

/** A read-only open found no metrics database yet. */
export class MetricsNotFoundError extends TaggedError {
  readonly _tag = "MetricsNotFoundError" as const;
  constructor(readonly path: string) {
    super(
      `No metrics database at ${path}. It is created by the first \`sluice run\`; check SLUICE_HOME or --home if you expected one.`,
    );
  }
}

/** A metrics database that cannot be opened: which, why (`reason`), and what to do (`advice`). */
abstract class StoreOpenError extends TaggedError {
  constructor(
    readonly path: string,
    readonly reason: string,
    advice: string,
    override readonly cause?: unknown,
  ) {
    super(`The metrics database ${path} cannot be opened: ${reason.replace(/[.!]+$/, "")}. ${advice}`, {
      cause,
    });
  }
}

/** The file is not a DuckDB database this sluice can open (damaged, or not DuckDB's). */
export class MetricsFileError extends StoreOpenError {
  readonly _tag = "MetricsFileError" as const;
  constructor(path: string, reason: string, cause?: unknown) {
    super(
      path,
      reason,
      "Its runs are a projection of the run journals: move it away and the next `sluice metrics` or `sluice sql` rebuilds them from the journals " +
        "(what only it holds is lost with it: results recorded by `sluice bench`, and runs pruned with `--keep` come back).",
      cause,
    );
  }
}

/** The file (or its directory) may not be opened for writing by this process. */
export class MetricsAccessError extends StoreOpenError {
  readonly _tag = "MetricsAccessError" as const;
  constructor(path: string, reason: string, cause?: unknown) {
    super(
      path,
      reason,
      "Readers (`sluice sql`, `metrics`, `serve`) catch it up from the run journals, so they open it for writing: " +
        "run them as the user who owns the state directory, or make the directory and the file writable for you.",
      cause,
    );
  }
}

/** The file was written by a newer sluice with a schema this version does not know. */
export class MetricsSchemaError extends TaggedError {
  readonly _tag = "MetricsSchemaError" as const;
  constructor(
    readonly path: string,
    readonly version: number,
    readonly supported: number,
  ) {
    super(
      `The metrics database ${path} has schema version ${version}, but this sluice knows versions up to ${supported}. ` +
        "Upgrade sluice, or move the file away to start a new one.",
    );
  }
}

/** User SQL was refused (not a single read-only SELECT) or failed. */
export class MetricsQueryError extends TaggedError {
  readonly _tag = "MetricsQueryError" as const;
  constructor(
    readonly sql: string,
    readonly reason: string,
    override readonly cause?: unknown,
  ) {
    super(`Query failed: ${reason}. SQL: ${sql.length > 200 ? `${sql.slice(0, 200)}…` : sql}`, { cause });
  }
}

/** A write (ingest, prune, record) on a store opened read-only, or any call after `close()`. */
export class MetricsStateError extends TaggedError {
  readonly _tag = "MetricsStateError" as const;
  constructor(message: string) {
    super(message);
  }
}

/** Writing a batch of events to DuckDB failed; the batch is kept and retried on the next flush. */
export class MetricsWriteError extends TaggedError {
  readonly _tag = "MetricsWriteError" as const;
  constructor(
    readonly path: string,
    readonly events: number,
    override readonly cause: unknown,
  ) {
    super(
      `Could not write ${events} events to the metrics database ${path}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        "They stay buffered and are retried on the next flush; the run's journal still holds every durable event.",
      { cause },
    );
  }
}

export { MetricsConfigError };

export type MetricsError =
  | MetricsLockedError
  | MetricsNotFoundError
  | MetricsSchemaError
  | MetricsQueryError
  | MetricsStateError
  | MetricsWriteError
  | MetricsConfigError;
