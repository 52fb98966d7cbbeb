/**
 * @module A run's remote workers (distributed parallelMap) as its journal
 * tells it, for `sluice runs`: the `cluster.worker` deltas folded per stage
 * and worker (the run projection's fold), and the run's duration to divide
 * busy time by. A run without remote workers costs one `lastOfKind` lookup
 * (sealed segments' summaries say they hold none), not a read of its journal.
 */
import { type ClusterWorkerTotals, foldClusterWorker } from "../events/internal/cluster-fold.ts";
import { paths } from "../runtime/fs.ts";
import { readJournal } from "./journal-reader.ts";
import { JOURNAL_DIR, readRunEvents } from "./runs.ts";

export interface JournalClusterWorkers {
  readonly workers: readonly ClusterWorkerTotals[];
  /**
   * The run's duration as the metrics store's `runs` view counts it: the
   * attempts' `run.ended` durations, plus, when the last attempt has not
   * ended, the time from its start to the last worker report. Null when
   * nothing tells (no start).
   */
  readonly durationMs: number | null;
}

const KINDS = ["cluster.worker", "run.started", "run.ended"] as const;

/** The run's remote workers and duration; no workers (and a null duration) for a run without. */
export async function readClusterWorkers(runDir: string): Promise<JournalClusterWorkers> {
  const none = { workers: [], durationMs: null };
  const tolerant = { onCorruption: () => {} };
  const reader = await readJournal(paths.join(runDir, JOURNAL_DIR));
  if (!(await reader?.lastOfKind("cluster.worker", tolerant))) return none;
  const workers: ClusterWorkerTotals[] = [];
  let ended = 0;
  let lastStart: number | undefined;
  let open = false;
  let lastAt = Number.NEGATIVE_INFINITY;
  for await (const { event: e } of readRunEvents(runDir, { ...tolerant, kinds: KINDS })) {
    if (e.kind === "cluster.worker") {
      foldClusterWorker(workers, e);
      lastAt = Math.max(lastAt, e.ts);
    } else if (e.kind === "run.started") {
      lastStart = e.ts;
      open = true;
    } else if (e.kind === "run.ended") {
      ended += e.durationMs;
      open = false;
    }
  }
  if (lastStart === undefined) return { workers, durationMs: null };
  return { workers, durationMs: ended + (open ? Math.max(0, lastAt - lastStart) : 0) };
}
