/**
 * @module CLI messages and exit codes for errors. The exit code of each error tag is in the one
 * table of exit codes and HTTP statuses, `src/errors.ts`.
 */
import { EXIT, errorCodesOf, isTaggedError, TaggedError, type TaggedErrorOptions } from "../errors.ts";
import { describeError, isSluiceError } from "../pipeline/errors.ts";

export { EXIT } from "../errors.ts";

/** Thrown for bad command-line usage (unknown flag, missing argument). */
export class UsageError extends TaggedError {
  readonly _tag = "UsageError";
  constructor(message: string, options?: TaggedErrorOptions) {
    super(message, { ...options, hint: options?.hint ?? "Run `sluice --help` for usage." });
  }
}

export function exitCodeOf(e: unknown): number {
  return (isTaggedError(e) && errorCodesOf(e._tag)?.exit) || EXIT.failed;
}

/** One clear message: what and where, then what to do; the stack only when verbose. */
export function formatError(e: unknown, verbose: boolean): string {
  const tag = isSluiceError(e) || e instanceof UsageError ? `${e._tag}: ` : "";
  let text = `sluice: ${tag}${describeError(e)}`;
  const hint = isTaggedError(e) ? e.hint : undefined;
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
