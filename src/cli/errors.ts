/**
 * @module The one place that maps errors to CLI messages and exit codes.
 */
import { describeError, isSluiceError } from "../pipeline/errors.ts";

/** Thrown for bad command-line usage (unknown flag, missing argument). */
export class UsageError extends Error {
  readonly _tag = "UsageError";
}

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

export function exitCodeOf(e: unknown): number {
  if (e instanceof UsageError) return EXIT.usage;
  if (isSluiceError(e) && (e._tag === "ConfigError" || e._tag === "PipelineLoadError")) return EXIT.usage;
  return EXIT.failed;
}

/** One clear message: what and where, then what to do; the stack only when verbose. */
export function formatError(e: unknown, verbose: boolean): string {
  const tag = isSluiceError(e) || e instanceof UsageError ? `${e._tag}: ` : "";
  let text = `sluice: ${tag}${describeError(e)}`;
  const hint = isSluiceError(e)
    ? e.hint
    : e instanceof UsageError
      ? "Run `sluice --help` for usage."
      : undefined;
  if (hint) text += `\n  ${hint}`;
  if (verbose && e instanceof Error && e.stack) {
    text += `\n${e.stack}`;
    let cause = e.cause;
    while (cause instanceof Error) {
      text += `\nCaused by: ${cause.stack ?? cause.message}`;
      cause = cause.cause;
    }
  } else if (!verbose) text += "\n  (add --verbose for details)";
  return text;
}
