/**
 * @module `sluice runs [PIPELINE] [--json]`: the runs in the state directory
 * with status, progress and last checkpoint, read from their journals (a
 * run with no `run.ended` whose lock no live process holds is "crashed
 * (resumable)"). Nothing is written, so it is safe while runs are going.
 */
import { busyShare, withBusyShare } from "../../events/internal/cluster-fold.ts";
import { type JournalClusterWorkers, readClusterWorkers } from "../../journal/cluster-workers.ts";
import { listRuns, type RunInfo } from "../../journal/runs.ts";
import { stateHome } from "../../pipeline/run.ts";
import { systemClock } from "../../runtime/clock.ts";
import { stderr, stdout } from "../../runtime/process.ts";
import { EXIT } from "../errors.ts";
import { duration, int } from "../format.ts";
import { formatOffset } from "./run.ts";

export interface RunsFlags {
  readonly home?: string;
  readonly json: boolean;
}

export async function runsCommand(pipeline: string | undefined, flags: RunsFlags): Promise<number> {
  const home = stateHome(flags.home);
  const runs = await listRuns(home, pipeline, {
    onUnreadable: (e) => stderr.write(`sluice: warning: ${e.message} (${e.hint})\n`),
  });
  const cluster = new Map<RunInfo, JournalClusterWorkers>();
  for (const r of runs) {
    if (r.status === "unreadable") continue;
    const c = await readClusterWorkers(r.runDir);
    if (c.workers.length > 0) cluster.set(r, c);
  }
  if (flags.json) {
    for (const r of runs) stdout.write(`${JSON.stringify(runJson(r, cluster.get(r)))}\n`);
    return EXIT.ok;
  }
  if (runs.length === 0) {
    stdout.write(`no runs under ${home}${pipeline ? ` for pipeline "${pipeline}"` : ""}\n`);
    return EXIT.ok;
  }
  const now = systemClock.now();
  const rows = runs.map((r) => [
    r.runId,
    r.pipeline,
    statusText(r),
    int(rowsIn(r)),
    progress(r),
    r.checkpoint
      ? `#${r.checkpoint.id} ${ago(now - r.checkpoint.ts)} · ${formatOffset(r.checkpoint.sourceOffset)}`
      : "—",
  ]);
  stdout.write(table(["RUN", "PIPELINE", "STATUS", "ROWS IN", "PROGRESS", "LAST CHECKPOINT"], rows));
  for (const [r, c] of cluster) {
    const of = c.durationMs === null ? "" : ` (BUSY: busy time over the run's ${duration(c.durationMs)})`;
    stdout.write(`\nremote workers of ${r.runId}${of}:\n`);
    stdout.write(
      table(
        ["STAGE", "HOST", "PID", "RUNTIME", "TASKS", "RECORDS", "BUSY", "FAILURES", "REDELIVERED", "STATE"],
        c.workers.map((w) => [
          w.stage,
          w.host,
          String(w.pid),
          w.runtime,
          int(w.tasks),
          int(w.records),
          percent(busyShare(w.busyMs, c.durationMs)),
          int(w.failures),
          int(w.redelivered),
          w.state,
        ]),
      ),
    );
  }
  return EXIT.ok;
}

function percent(share: number | null): string {
  return share === null ? "—" : `${(share * 100).toFixed(0)}%`;
}

export function statusText(r: RunInfo): string {
  switch (r.status) {
    case "running":
      return `running (pid ${r.holder?.pid})`;
    case "crashed":
      return "crashed (resumable)";
    case "interrupted":
      return "interrupted (resumable)";
    default:
      return r.status;
  }
}

function rowsIn(r: RunInfo): number {
  return r.ended?.rowsIn ?? r.checkpoint?.rowsIn ?? 0;
}

function progress(r: RunInfo): string {
  if (r.status === "completed") return "100%";
  const total = r.started?.sourceBytes;
  const at = (r.checkpoint?.sourceOffset as { byte?: unknown } | undefined)?.byte;
  if (total && typeof at === "number") return `${((at / total) * 100).toFixed(1)}%`;
  return "—";
}

function ago(ms: number): string {
  return ms < 1000 ? "just now" : `${duration(ms)} ago`;
}

function runJson(r: RunInfo, cluster: JournalClusterWorkers | undefined) {
  return {
    runId: r.runId,
    pipeline: r.pipeline,
    status: r.status,
    resumable: r.resumable,
    pid: r.holder?.pid,
    rowsIn: rowsIn(r),
    progress: progress(r),
    startedAt: r.firstStarted?.ts,
    endedAt: r.ended?.ts,
    lastCheckpoint: r.checkpoint && {
      id: r.checkpoint.id,
      ts: r.checkpoint.ts,
      sourceOffset: r.checkpoint.sourceOffset,
      rowsIn: r.checkpoint.rowsIn,
    },
    file: r.meta?.file,
    runDir: r.runDir,
    clusterWorkers: cluster?.workers.map((w) => withBusyShare(w, cluster.durationMs)),
  };
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join("\n")}\n`;
}
