/**
 * @module Which run `sluice run` continues, and from where: the latest run of
 * the pipeline if it crashed or was interrupted (or a run named by id), never
 * one a live process holds, completed, or written by a newer sluice; then its
 * last checkpoint, after checking the pipeline definition has not changed.
 */
import type { EventOf } from "../../events/schema.ts";
import { parseEvent } from "../../events/schema.ts";
import { describeError, StateError } from "../../pipeline/errors.ts";
import type { Pipeline } from "../../pipeline/pipeline.ts";
import type { JournalCorruptionError } from "../errors.ts";
import type { Journal, JournalPosition } from "../journal.ts";
import { inspectRun, listRunRefs, type RunInfo, readRunMeta } from "../runs.ts";
import { fromJournalValue } from "./plain.ts";

export interface ResumeInfo {
  readonly runId: string;
  readonly runDir: string;
  /** The checkpoint the run continues from; undefined when it crashed before its first one (it starts over). */
  readonly checkpoint?: EventOf<"checkpoint">;
  /** Damaged journal records that were skipped (the resume point is before or after them). */
  readonly corruptions: readonly JournalCorruptionError[];
  /**
   * Where the journal ended when the run was reopened: records before it are
   * the earlier process's, records from it on are this one's (a reader that
   * loads the old events while the run goes on stops here).
   */
  readonly journalEnd: JournalPosition;
}

/** The run to continue, or undefined for a new one. */
export async function chooseRun(
  home: string,
  p: Pipeline<unknown>,
  options: { readonly resume?: boolean | string },
): Promise<RunInfo | undefined> {
  const resume = options.resume ?? true;
  if (resume === false) return undefined;
  if (typeof resume === "string") {
    const ref = (await listRunRefs(home, p.name)).find((r) => r.runId === resume);
    if (!ref) {
      throw new StateError(`pipeline "${p.name}" has no run ${resume} under ${home}`, {
        hint: "`sluice runs` lists the runs; check --home / SLUICE_HOME.",
      });
    }
    const info = await inspectRun(ref);
    if (info.status === "completed") {
      throw new StateError(
        `run ${resume} of pipeline "${p.name}" already completed; there is nothing to resume`,
        {
          hint: "Run the pipeline again to start a new run.",
        },
      );
    }
    if (info.status === "running") throw running(info);
    if (info.status === "unreadable") throw unreadable(info);
    return info;
  }
  // The latest run of the pipeline's own definition: a redrive (`sluice redrive`) is resumed by id.
  const refs = await listRunRefs(home, p.name);
  let latest = refs.pop();
  while (latest && (await readRunMeta(latest.runDir))?.redriveOf !== undefined) latest = refs.pop();
  if (!latest) return undefined;
  const info = await inspectRun(latest);
  if (info.status === "running") throw running(info);
  if (info.status === "unreadable") throw unreadable(info);
  return info.resumable ? info : undefined;
}

function unreadable(info: RunInfo): StateError {
  return new StateError(`cannot resume run ${info.runId} of pipeline "${info.pipeline}": ${info.error}`, {
    hint: "Use the sluice that wrote it, or start a new run with --fresh (the old run is left as it is).",
  });
}

function running(info: RunInfo): StateError {
  const h = info.holder;
  return new StateError(
    `run ${info.runId} of pipeline "${info.pipeline}" is still running (process ${h?.pid} on ${h?.host})`,
    {
      hint: "Wait for it to finish or stop it (Ctrl-C) and run again to resume it; --fresh starts a separate run.",
    },
  );
}

export async function resumePoint(
  journal: Journal,
  info: RunInfo,
  p: Pipeline<unknown>,
  hash: string,
): Promise<ResumeInfo> {
  const meta = info.meta ?? (await readRunMeta(info.runDir));
  const was = info.started?.definitionHash ?? meta?.definitionHash;
  if (was !== undefined && was !== hash) {
    const stages = info.started
      ? ` (it had: ${[info.started.source, ...info.started.stages, info.started.sink].join(" → ")})`
      : "";
    throw new StateError(
      `pipeline "${p.name}" changed since run ${info.runId} was checkpointed: definition ${was} then, ${hash} now${stages}`,
      {
        hint: `Resume with the old definition${meta?.file ? ` (${meta.file})` : ""}, or start over with --fresh.`,
      },
    );
  }
  const corruptions: JournalCorruptionError[] = [...journal.recovery.corruptions];
  const last = await journal.lastOfKind("checkpoint", { onCorruption: (e) => corruptions.push(e) });
  let checkpoint: EventOf<"checkpoint"> | undefined;
  if (last) {
    try {
      checkpoint = parseEvent(fromJournalValue(last.value)) as EventOf<"checkpoint">;
    } catch (e) {
      throw new StateError(
        `the last checkpoint of run ${info.runId} is not a valid checkpoint event: ${describeError(e)}`,
        { cause: e, hint: "Start over with --fresh." },
      );
    }
  }
  return { runId: info.runId, runDir: info.runDir, checkpoint, corruptions, journalEnd: journal.end };
}
