/**
 * @module Tagged errors of the pipeline layer: the ones that stop a run. Each says what went
 * wrong, where and what to do (`hint`). Their base and their exit codes and HTTP statuses are in
 * `src/errors.ts`.
 */
import { TaggedError } from "../errors.ts";

/** Options given to a source, operator or sink are invalid. */
export class ConfigError extends TaggedError {
  readonly _tag = "ConfigError";
}

/** An input cannot be opened or read (missing, unreadable, not a file). */
export class SourceError extends TaggedError {
  readonly _tag = "SourceError";
}

/** A sink cannot write or commit. */
export class SinkError extends TaggedError {
  readonly _tag = "SinkError";
}

/** A stage failed in a way that stops the run (not a per-record failure). */
export class StageError extends TaggedError {
  readonly _tag = "StageError";
}

/** A pipeline file could not be loaded or does not export a pipeline. */
export class PipelineLoadError extends TaggedError {
  readonly _tag = "PipelineLoadError";
}

/** The run was cancelled (Ctrl-C, abort signal). */
export class CancelledError extends TaggedError {
  readonly _tag = "CancelledError";
}

/** State-directory or journal problems that stop a run (disk full, fsync). */
export class StateError extends TaggedError {
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

const RUN_ERRORS = [
  ConfigError,
  SourceError,
  SinkError,
  StageError,
  PipelineLoadError,
  CancelledError,
  StateError,
] as const;

/** Whether `e` is one of the errors that stop a run (above), not another layer's tagged error. */
export function isSluiceError(e: unknown): e is SluiceError {
  return e instanceof TaggedError && RUN_ERRORS.some((c) => e instanceof c);
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

/** Alert rules or store options failed validation. */
export class MetricsConfigError extends TaggedError {
  readonly _tag = "MetricsConfigError" as const;
  constructor(
    readonly setting: string,
    reason: string,
  ) {
    super(`Invalid metrics setting ${setting}: ${reason}`);
  }
}
