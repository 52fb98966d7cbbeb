/**
 * @module The metrics databases open in this process, by absolute path. The
 * same file is opened once and shared, so a second DuckDB instance can never
 * write it concurrently: one writer at a time, read-only handles beside it.
 */
import { type Database, openDuckDB } from "../../duckdb/client.ts";
import { fs, paths } from "../../runtime/fs.ts";
import {
  MetricsAccessError,
  MetricsFileError,
  MetricsLockedError,
  MetricsNotFoundError,
  MetricsStateError,
} from "../errors.ts";

export interface Shared {
  db: Database;
  /** The handle open for writing, if any. */
  writer: object | undefined;
  users: number;
}

/** Databases open (or opening) in this process, by absolute path. */
const open = new Map<string, Promise<Shared>>();

/**
 * Opens (or shares) the database at `path` and makes a handle on it with
 * `create`; the database is closed again if that fails and nothing else uses it.
 */
export async function openShared<S>(
  path: string,
  readOnly: boolean,
  create: (shared: Shared) => Promise<S>,
): Promise<S> {
  const pending = open.get(path);
  if (pending) {
    const shared = await pending;
    if (!readOnly && (shared.writer || shared.db.readOnly)) {
      throw new MetricsStateError(
        shared.db.readOnly
          ? `The metrics database ${path} is open read-only in this process; close that handle before opening it for writing.`
          : `The metrics database ${path} is already open for writing in this process; share that MetricsStore ` +
              "(or open a read-only handle) instead of opening it twice.",
      );
    }
    shared.users++;
    try {
      // A read-only handle (or a writer, when the previous one closed) on the shared instance.
      return await create(shared);
    } catch (e) {
      shared.users--;
      throw e;
    }
  }
  // Registered before the first await, so a concurrent open in this process waits for this one.
  const opening = (async (): Promise<Shared> => {
    if (readOnly) {
      if (!(await fs.stat(path))?.isFile) throw new MetricsNotFoundError(path);
    } else {
      await fs.mkdirp(paths.dirname(path), 0o700);
    }
    try {
      return { db: await openDuckDB(path, { readOnly }), writer: undefined, users: 1 };
    } catch (e) {
      throw toOpenError(path, e);
    }
  })();
  open.set(path, opening);
  let shared: Shared;
  try {
    shared = await opening;
  } catch (e) {
    open.delete(path);
    throw e;
  }
  try {
    return await create(shared);
  } catch (e) {
    open.delete(path);
    shared.db.close();
    throw e;
  }
}

/** Gives up one handle on `shared`; the last closes the database. */
export function releaseShared(path: string, shared: Shared, handle: object): void {
  if (shared.writer === handle) shared.writer = undefined;
  shared.users--;
  if (shared.users <= 0) {
    open.delete(path);
    shared.db.close();
  }
}

function toOpenError(path: string, e: unknown): Error {
  const message = e instanceof Error ? e.message : String(e);
  if (/lock/i.test(message)) {
    const pid = /PID (\d+)/.exec(message);
    return new MetricsLockedError(path, pid ? Number(pid[1]) : undefined, e);
  }
  if (/not a valid DuckDB database/.test(message))
    return new MetricsFileError(path, message.replace(/^IO Error: /, ""), e);
  if (/Permission denied|Read-only file system/i.test(message))
    return new MetricsAccessError(
      path,
      /Read-only/i.test(message) ? "read-only file system" : "permission denied",
      e,
    );
  return e instanceof Error ? e : new Error(message);
}
