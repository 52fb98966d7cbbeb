/**
 * @module Tagged errors of the journal layer. Each says what went wrong, where
 * (segment file and byte offset) and what the user can do; `_tag` equals the
 * class name so callers (the engine, the CLI's exit-code mapping) match on it.
 * The base, exit codes and HTTP statuses are in `src/errors.ts`.
 */
import { TaggedError } from "../errors.ts";

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === "string" && !cause.message.includes(code)
      ? `${cause.message} (${code})`
      : cause.message;
  }
  return String(cause);
}

/**
 * Writing or fsyncing the journal failed (ENOSPC, EIO, ...). The journal that
 * raised it refuses every further append and sync: after a failed fsync the
 * kernel may have dropped the dirty pages, so nothing written since the last
 * successful `sync()` can be called durable.
 */
export class JournalWriteError extends TaggedError {
  readonly _tag = "JournalWriteError" as const;
  constructor(
    /** What failed: "write", "fsync", "create segment", ... */
    readonly operation: string,
    readonly file: string,
    readonly offset: number,
    override readonly cause: unknown,
  ) {
    super(
      `Journal ${operation} failed for ${file} at byte offset ${offset}: ${describeCause(cause)}. ` +
        "The journal refuses further appends, because records after the last successful sync() may not be on disk. " +
        "Fix the cause (free disk space, check the device), then reopen the journal: it recovers every complete record.",
      { cause },
    );
  }
}

/**
 * A record that cannot be trusted: a CRC mismatch, a damaged frame header, a
 * missing piece of a sealed segment. Corrupt bytes are never returned as data.
 */
export class JournalCorruptionError extends TaggedError {
  readonly _tag = "JournalCorruptionError" as const;
  constructor(
    readonly file: string,
    readonly offset: number,
    /** Bytes skipped from `offset`; reading went on after them when `resumed`. */
    readonly length: number,
    readonly reason: string,
    /** True when valid frames follow and reading continued after the damaged bytes. */
    readonly resumed: boolean,
  ) {
    super(
      `Journal segment ${file} is corrupt at byte offset ${offset}: ${reason}. ` +
        (resumed
          ? `${length} bytes were skipped and reading went on at byte offset ${offset + length}; records in them are lost. `
          : "Nothing after this point in the segment could be read. ") +
        "Restore the segment from a backup if you have one, or resume from a checkpoint before this offset.",
    );
  }
}

/** A segment was written by a newer sluice whose format this version cannot read. */
export class JournalVersionError extends TaggedError {
  readonly _tag = "JournalVersionError" as const;
  constructor(
    readonly file: string,
    readonly version: number,
    readonly supported: number,
  ) {
    super(
      `Journal segment ${file} has format version ${version} (byte offset 8), but this sluice reads versions up to ${supported}. ` +
        "Upgrade sluice to resume or read this run; the files were left untouched. " +
        "If no newer sluice ever wrote to this directory, the segment header is damaged instead: restore the file from a backup.",
    );
  }
}

/** `append`, `sync` or `read` on a journal after `close()`. */
export class JournalClosedError extends TaggedError {
  readonly _tag = "JournalClosedError" as const;
  constructor(readonly dir: string) {
    super(`The journal in ${dir} is closed. Open it again with openJournal() to append or read.`);
  }
}

/** A value that MessagePack cannot encode, or a record over 4 GiB. The journal stays usable. */
export class JournalEncodeError extends TaggedError {
  readonly _tag = "JournalEncodeError" as const;
  constructor(
    readonly dir: string,
    readonly reason: string,
    override readonly cause?: unknown,
  ) {
    super(
      `Cannot append to the journal in ${dir}: ${reason}. ` +
        "Journal records must be MessagePack-serialisable (plain objects, arrays, strings, numbers, booleans, null, " +
        "Uint8Array, Date) and under 4 GiB encoded.",
      { cause },
    );
  }
}

/** An option passed to `openJournal` is out of range or of the wrong shape. */
export class JournalOptionsError extends TaggedError {
  readonly _tag = "JournalOptionsError" as const;
  constructor(
    readonly option: string,
    readonly reason: string,
  ) {
    super(`Invalid journal option "${option}": ${reason}.`);
  }
}

/** `read({ from })` named a position that is not in this journal. */
export class JournalPositionError extends TaggedError {
  readonly _tag = "JournalPositionError" as const;
  constructor(
    readonly dir: string,
    readonly segment: number,
    readonly offset: number,
    reason: string,
  ) {
    super(
      `Cannot read the journal in ${dir} from segment ${segment} byte offset ${offset}: ${reason}. ` +
        "Pass a position returned by append() or by a record's `position`/`next`, or omit it to read from the beginning.",
    );
  }
}

/** Reading a segment failed at the file-system level (EIO, permissions, a file removed meanwhile). */
export class JournalReadError extends TaggedError {
  readonly _tag = "JournalReadError" as const;
  constructor(
    readonly file: string,
    readonly offset: number,
    override readonly cause: unknown,
  ) {
    super(
      `Reading journal segment ${file} at byte offset ${offset} failed: ${describeCause(cause)}. ` +
        "Check that the file exists and is readable by this user (journal files are 0600).",
      { cause },
    );
  }
}

/** The journal directory could not be created, listed or prepared for appending (EACCES, EROFS, ...). */
export class JournalOpenError extends TaggedError {
  readonly _tag = "JournalOpenError" as const;
  constructor(
    readonly dir: string,
    override readonly cause: unknown,
  ) {
    super(
      `Could not open the journal in ${dir}: ${describeCause(cause)}. ` +
        "Check that the directory (or its parent) exists or can be created, and is writable by this user; " +
        "set SLUICE_HOME to move the state directory.",
      { cause },
    );
  }
}

/** Every error the journal raises. */
export type JournalError =
  | JournalWriteError
  | JournalCorruptionError
  | JournalVersionError
  | JournalClosedError
  | JournalEncodeError
  | JournalOptionsError
  | JournalPositionError
  | JournalReadError
  | JournalOpenError;
