/**
 * @module The state directory's two failure modes that used to be silent or
 * bare: it cannot be created (a read-only mount, a path through a file, no
 * permission: was a bare `ENOENT: mkdir`), and a run directory deleted while
 * its run goes on (the journal's open file keeps accepting writes to an
 * unlinked inode, so the run used to exit 0 with no journal left). Both are a
 * `StateError` that names the directory and says what to do.
 */
import { fs } from "../../runtime/fs.ts";
import { describeError, StateError } from "../errors.ts";

/** `mkdir -p` of the state directory or a run's directory in it, or a `StateError` saying why not. */
export async function makeRunDir(runDir: string, home: string): Promise<void> {
  try {
    await fs.mkdirp(runDir, 0o700);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new StateError(
      `cannot create ${runDir === home ? "the state directory" : `the run directory ${runDir} in the state directory`} ${home}: ${describeError(e)}`,
      {
        cause: e,
        hint: `The state directory holds each run's journal, lock and dead letter, so it must be a writable directory${
          code === "EROFS"
            ? " (this one is on a read-only file system)"
            : code === "EEXIST" || code === "ENOTDIR"
              ? " (this path is a file, or goes through one)"
              : ""
        }: set SLUICE_HOME or pass --home to a writable directory (default ./.sluice).`,
      },
    );
  }
}

/**
 * Throws a `StateError` when `home` exists but is not a directory, or is a
 * path through a file, or may not be read (readers would fail with a bare
 * ENOTDIR/EEXIST/EACCES).
 */
export async function requireStateDirectory(home: string): Promise<void> {
  let info: Awaited<ReturnType<typeof fs.stat>>;
  try {
    info = await fs.stat(home);
  } catch (e) {
    throw new StateError(`the state directory ${home} cannot be reached: ${describeError(e)}`, {
      cause: e,
      hint: "Set SLUICE_HOME or pass --home to a directory (default ./.sluice); a path through a file, or a parent you may not enter, is none.",
    });
  }
  if (!info) return;
  if (!info.isDirectory)
    throw new StateError(`the state directory ${home} is a file, not a directory`, {
      hint: "Set SLUICE_HOME or pass --home to a directory (default ./.sluice); it holds each run's journal and the metrics store.",
    });
  try {
    await fs.readdir(home);
  } catch (e) {
    throw new StateError(`the state directory ${home} cannot be read: ${describeError(e)}`, {
      cause: e,
      hint: "Run as the user who owns it, or make it readable for you (it holds each run's journal and the metrics store).",
    });
  }
}

/** Throws a `StateError` when `dir` (a run's directory or its journal) no longer exists. */
export async function requireRunDir(dir: string, runId: string): Promise<void> {
  if ((await fs.stat(dir).catch(() => undefined))?.isDirectory) return;
  throw new StateError(`run ${runId}: its directory ${dir} was deleted while the run was going`, {
    hint:
      "The journal was in it, so this run can neither be trusted nor resumed: do not delete the state " +
      "directory of a running run. Start the run again with --fresh (the sink's output of this run may be incomplete).",
  });
}
