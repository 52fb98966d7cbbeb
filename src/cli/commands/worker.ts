/**
 * @module `sluice worker --nats URL [--concurrency N]`: a machine's share of cluster
 * `parallelMap` stages (see `operators/cluster/worker.ts`). Shows one status line (rewritten in
 * place on a terminal; a line every 10 s and on each change otherwise), drains on SIGTERM or
 * Ctrl-C (a second one stops at once), and exits 0 once its tasks in hand are reported.
 */
import { runClusterWorker, type WorkerStatus } from "../../operators/cluster/worker.ts";
import { systemClock } from "../../runtime/clock.ts";
import { exit, onSignal, stderr } from "../../runtime/process.ts";
import { EXIT } from "../errors.ts";
import { int } from "../format.ts";

export interface WorkerFlags {
  readonly nats: string;
  readonly concurrency?: number;
  readonly quiet: boolean;
}

function line(s: WorkerStatus): string {
  const state = s.draining
    ? "draining"
    : s.jobs
      ? `${s.jobs} job${s.jobs === 1 ? "" : "s"}`
      : "waiting for jobs";
  return (
    `sluice worker ${s.id} · ${s.concurrency} thread${s.concurrency === 1 ? "" : "s"} · ${state} · ` +
    `${s.running} running · ${int(s.tasks)} tasks · ${int(s.records)} records · ` +
    `${int(s.failures)} failed · busy ${Math.round(s.busy * 100)}%`
  );
}

export async function workerCommand(flags: WorkerFlags): Promise<number> {
  const stop = new AbortController();
  let stops = 0;
  const onStop = () => {
    if (++stops > 1) exit(EXIT.interrupted);
    stop.abort();
  };
  const offTerm = onSignal("SIGTERM", onStop);
  const offInt = onSignal("SIGINT", onStop);
  let last = "";
  let lastAt = 0;
  const show = (s: WorkerStatus) => {
    if (flags.quiet) return;
    const text = line(s);
    if (stderr.isTTY) {
      stderr.write(`\r\x1b[2K${text.slice(0, Math.max(20, stderr.columns - 1))}`);
      return;
    }
    // Not a terminal (a log file, systemd): a line when the state changes, else every 10 s.
    const key = `${s.jobs}|${s.draining}|${s.running > 0}`;
    const now = systemClock.monotonic();
    if (key !== last || now - lastAt >= 10_000) {
      stderr.write(`${text}\n`);
      last = key;
      lastAt = now;
    }
  };
  try {
    const final = await runClusterWorker({
      nats: flags.nats,
      concurrency: flags.concurrency,
      clock: systemClock,
      stop: stop.signal,
      onStatus: show,
      log: flags.quiet ? undefined : (text) => stderr.write(`${stderr.isTTY ? "\r\x1b[2K" : ""}${text}\n`),
    });
    if (!flags.quiet) stderr.write(`${stderr.isTTY ? "\r\x1b[2K" : ""}${line(final)} · stopped\n`);
    return EXIT.ok;
  } finally {
    offTerm();
    offInt();
  }
}
