/**
 * @module Tagged errors of the pipeline layer. Each says what went wrong, where
 * and what to do; `exitCode` is used by the CLI (one place maps errors to exit
 * codes: `cli/errors.ts`).
 */

abstract class SluiceErrorBase extends Error {
  abstract readonly _tag: string;
  /** Hint shown after the message: what the user can do. */
  readonly hint?: string;
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options?.hint;
  }
  override get name(): string {
    return this._tag;
  }
}

/** Options given to a source, operator or sink are invalid. */
export class ConfigError extends SluiceErrorBase {
  readonly _tag = "ConfigError";
}

/** An input cannot be opened or read (missing, unreadable, not a file). */
export class SourceError extends SluiceErrorBase {
  readonly _tag = "SourceError";
}

/** A sink cannot write or commit. */
export class SinkError extends SluiceErrorBase {
  readonly _tag = "SinkError";
}

/** A stage failed in a way that stops the run (not a per-record failure). */
export class StageError extends SluiceErrorBase {
  readonly _tag = "StageError";
}

/** A pipeline file could not be loaded or does not export a pipeline. */
export class PipelineLoadError extends SluiceErrorBase {
  readonly _tag = "PipelineLoadError";
}

/** The run was cancelled (Ctrl-C, abort signal). */
export class CancelledError extends SluiceErrorBase {
  readonly _tag = "CancelledError";
}

/** State-directory or journal problems that stop a run (disk full, fsync). */
export class StateError extends SluiceErrorBase {
  readonly _tag = "StateError";
}

export type SluiceError =
  | ConfigError
  | SourceError
  | SinkError
  | StageError
  | PipelineLoadError
  | CancelledError
  | StateError;

export function isSluiceError(e: unknown): e is SluiceError {
  return e instanceof SluiceErrorBase;
}

/** A readable one-line description of any thrown value. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === "string") return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
