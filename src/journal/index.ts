/**
 * @module Public surface of the journal layer: `openJournal`, its types and
 * its tagged errors. Everything under `internal/` stays private.
 */
export {
  JournalClosedError,
  JournalCorruptionError,
  JournalEncodeError,
  type JournalError,
  JournalOpenError,
  JournalOptionsError,
  JournalPositionError,
  JournalReadError,
  JournalVersionError,
  JournalWriteError,
} from "./errors.ts";
export {
  type FsyncPolicy,
  type Journal,
  type JournalClock,
  type JournalOptions,
  type JournalPosition,
  type JournalReadOptions,
  type JournalRecord,
  type JournalRecovery,
  openJournal,
} from "./journal.ts";
