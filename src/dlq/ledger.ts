/**
 * @module The redrive ledger of a run: `<run dir>/redrive-ledger.json`, beside
 * its dead-letter file, written atomically (`atomic.ts`). It lists the
 * redrives of the run (each a run of its own, with the letters it took) and,
 * per dead letter, what the latest redrive made of it: `redriven` (it went
 * through the fixed pipeline: written to the sink, or filtered) or `dead`
 * again (with the new failure: stage, reason, error, attempts so far, and the
 * record as it entered the stage that failed it).
 *
 * A redrive's outcome is folded into the ledger ("settled") only once its run
 * completed, from that run's own dead-letter file, so settling is idempotent
 * and a redrive killed and resumed settles exactly as an uninterrupted one.
 * Counts reconcile: letters = redriven + still dead.
 */
import { inspectRun, type RunStatus } from "../journal/runs.ts";
import { fs, paths } from "../runtime/fs.ts";
import { readJson, writeAtomic } from "./atomic.ts";
import { type DeadLetterEvent, readLetters } from "./letters.ts";
import { PLAN_FILE, type RedrivePlan } from "./plan.ts";

export const LEDGER_FILE = "redrive-ledger.json";

/** A redrive of the run, as the ledger lists it. */
export interface RedriveEntry {
  readonly runId: string;
  readonly startedAt: number;
  /** How many dead letters it took. */
  readonly letters: number;
  /** Set once its run completed and its outcome is in `letters` of the ledger. */
  settled?: { readonly at: number; readonly redriven: number; readonly dead: number };
}

/** What the latest redrive made of one dead letter. */
export interface LetterOutcome {
  readonly status: "redriven" | "dead";
  /** The redrive run that decided it. */
  readonly by: string;
  /** Redrives that took this letter. */
  readonly redrives: number;
  /** When `dead`: the new failure (position as in the first run; attempts summed over all tries). */
  readonly event?: DeadLetterEvent;
}

export interface Ledger {
  readonly version: 1;
  readonly runId: string;
  readonly redrives: RedriveEntry[];
  readonly letters: Record<string, LetterOutcome>;
}

export async function readLedger(runDir: string, runId: string): Promise<Ledger> {
  return (
    (await readJson<Ledger>(paths.join(runDir, LEDGER_FILE))) ?? {
      version: 1,
      runId,
      redrives: [],
      letters: {},
    }
  );
}

export function writeLedger(runDir: string, ledger: Ledger): Promise<void> {
  return writeAtomic(paths.join(runDir, LEDGER_FILE), `${JSON.stringify(ledger, null, 1)}\n`);
}

/** A redrive not settled yet, and its run's status (`running`, `crashed`, `interrupted`, `failed`…). */
export interface PendingRedrive {
  readonly runId: string;
  readonly status: RunStatus | "missing";
}

/**
 * Folds every completed, unsettled redrive of the run into its ledger (and
 * writes it when that changed anything). Returns the ledger and the
 * redrives still pending.
 */
export async function settle(
  runDir: string,
  runId: string,
  pipeline: string,
  now: number,
): Promise<{ ledger: Ledger; pending: PendingRedrive[] }> {
  const ledger = await readLedger(runDir, runId);
  const pending: PendingRedrive[] = [];
  let changed = false;
  for (const r of ledger.redrives) {
    if (r.settled) continue;
    const redriveDir = paths.join(paths.dirname(runDir), r.runId);
    if (!(await fs.stat(paths.join(redriveDir, "journal")))) {
      pending.push({ runId: r.runId, status: "missing" });
      continue;
    }
    const info = await inspectRun({ pipeline, runId: r.runId, runDir: redriveDir });
    if (info.status !== "completed") {
      pending.push({ runId: r.runId, status: info.status });
      continue;
    }
    const plan = await readJson<RedrivePlan>(paths.join(redriveDir, PLAN_FILE));
    if (!plan) {
      pending.push({ runId: r.runId, status: "missing" });
      continue;
    }
    r.settled = applyOutcome(ledger, plan, r.runId, await readLetters(redriveDir), now);
    changed = true;
  }
  if (changed) await writeLedger(runDir, ledger);
  return { ledger, pending };
}

/**
 * Marks every letter of the plan `redriven`, except those the redrive's own
 * dead letters point back to (by `position.chunk`, the plan index the
 * redrive source gave each letter's chunk).
 */
function applyOutcome(
  ledger: Ledger,
  plan: RedrivePlan,
  by: string,
  again: ReadonlyArray<{ event: DeadLetterEvent }>,
  now: number,
): NonNullable<RedriveEntry["settled"]> {
  const failed = new Map<number, DeadLetterEvent>();
  for (const { event } of again) {
    const i = event.position.chunk;
    if (typeof i === "number" && i >= 0 && i < plan.letters.length && !failed.has(i)) failed.set(i, event);
  }
  let dead = 0;
  plan.letters.forEach((l, i) => {
    const prev = ledger.letters[l.index];
    const redrives = (prev?.redrives ?? 0) + 1;
    const e = failed.get(i);
    if (!e) {
      ledger.letters[l.index] = { status: "redriven", by, redrives };
      return;
    }
    dead++;
    ledger.letters[l.index] = {
      status: "dead",
      by,
      redrives,
      event: {
        ...e,
        position: l.event.position,
        attempts: l.event.attempts + e.attempts,
      },
    };
  });
  return { at: now, redriven: plan.letters.length - dead, dead };
}
