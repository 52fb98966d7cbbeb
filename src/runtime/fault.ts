/**
 * @module Crash points for fault-injection tests. `SLUICE_FAULT=<point>[@<n>]`
 * makes the process kill itself with SIGKILL the n-th time (default: the
 * first) it passes `<point>`: no exit handlers, no buffered writes flushed —
 * what a power cut or `kill -9` leaves, at a precise place. Unset (always, in
 * production) a crash point costs one comparison.
 *
 * Points: `after-sink-commit` (the sink committed, the checkpoint is not yet
 * journaled), `after-checkpoint` (a checkpoint is durable, the sink has not
 * committed anything after it), `before-sink-close` (the final checkpoint is
 * durable, the sink has not finished: file not renamed), `before-run-ended`
 * (the sink finished — the file is renamed — but `run.ended` is not
 * journaled), `segment-rotation`
 * (a new journal segment file exists, its header is not written).
 */
import process from "node:process";

export type FaultPoint =
  | "after-sink-commit"
  | "after-checkpoint"
  | "before-sink-close"
  | "before-run-ended"
  | "segment-rotation";

interface Plan {
  readonly point: string;
  readonly at: number;
}

function parse(value: string | undefined): Plan | undefined {
  if (!value) return undefined;
  const m = /^([a-z-]+)(?:@(\d+))?$/.exec(value.trim());
  if (!m) {
    process.stderr.write(`sluice: ignoring SLUICE_FAULT=${value} (expected <point>[@<n>])\n`);
    return undefined;
  }
  return { point: m[1], at: m[2] ? Number(m[2]) : 1 };
}

const plan = parse(process.env.SLUICE_FAULT);
let hits = 0;

/** Dies here (SIGKILL) if `SLUICE_FAULT` names this point and this is the n-th pass. */
export function crashPoint(point: FaultPoint): void {
  if (plan === undefined || plan.point !== point) return;
  hits++;
  if (hits !== plan.at) return;
  process.kill(process.pid, "SIGKILL");
  // The signal is delivered before the kill call returns to JavaScript on
  // Linux; wait anyway so nothing after the crash point can run.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
}

/** True when a crash point is armed (the journal wraps its file system only then). */
export function faultArmed(point: FaultPoint): boolean {
  return plan?.point === point;
}
