/**
 * @module The metrics store as the CLI's readers open it (`sluice metrics`,
 * `sql`, `serve`): caught up first on every journal under the state
 * directory (`metrics/catch-up.ts`), with a progress line on stderr when that
 * takes more than a second, a warning for each journal it could not load
 * whole, and a note when another process holds the store so that it could
 * not be caught up.
 */
import { type CatchUpProgress, openCaughtUp } from "../../metrics/catch-up.ts";
import type { MetricsStore } from "../../metrics/store.ts";
import { StateError } from "../../pipeline/errors.ts";
import { requireStateDirectory } from "../../pipeline/internal/state-dir.ts";
import { stateHome } from "../../pipeline/run.ts";
import { fs } from "../../runtime/fs.ts";
import { stderr } from "../../runtime/process.ts";
import { compact, int } from "../format.ts";

/** Progress of a catch-up shown after this long. */
const SHOW_AFTER_MS = 1000;

export function catchUpProgress(quiet: boolean): (p: CatchUpProgress) => void {
  let shown = false;
  return (p) => {
    if (quiet || p.elapsedMs < SHOW_AFTER_MS) return;
    const rate = p.elapsedMs > 0 ? (p.events / p.elapsedMs) * 1000 : 0;
    const line = `sluice: loading journals into the metrics store: ${int(p.runsDone)}/${int(p.runs)} runs, ${compact(p.events)} events (${compact(rate)}/s)`;
    if (stderr.isTTY) {
      stderr.write(`\r\x1b[2K${line}`);
      shown = true;
      if (p.runsDone === p.runs) stderr.write("\n");
    } else if (!shown || p.runsDone === p.runs) {
      stderr.write(`${line}\n`);
      shown = true;
    }
  };
}

/**
 * Throws a `StateError` when the state directory does not exist: a reader given a mistyped
 * `--home` says so instead of making the directory and an empty store there.
 */
export async function requireStateHome(home: string | undefined): Promise<void> {
  const dir = stateHome(home);
  // A path through a file, or one this user may not enter, is said as such first.
  await requireStateDirectory(dir);
  if ((await fs.stat(dir)) !== undefined) return;
  throw new StateError(`there is no state directory at ${dir}: no run has written there`, {
    hint: "Run a pipeline first, or point --home (or SLUICE_HOME) at the directory your runs use (default ./.sluice).",
  });
}

/** Opens the store caught up on every journal (read as it stands when another process holds it). */
export async function openStoreForReading(home: string | undefined, quiet = false): Promise<MetricsStore> {
  await requireStateHome(home);
  const r = await openCaughtUp(home, {
    onProgress: catchUpProgress(quiet),
    onWarning: (message) => stderr.write(`sluice: warning: ${message}\n`),
    onWaiting: (message) => {
      if (!quiet) stderr.write(`sluice: note: ${message}\n`);
    },
  });
  if (r.stale && !quiet) stderr.write(`sluice: note: ${r.stale}\n`);
  return r.store;
}
