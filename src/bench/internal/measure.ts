/**
 * @module Taking one measurement: writes the spec, starts the measuring
 * process on the runtime (with the scenario's heap cap), follows its start
 * mark, samples and report on stdout, and — for kill-and-resume scenarios —
 * runs it twice: first with a crash point armed (SLUICE_FAULT), which must
 * kill it, then to completion from its journal. The outcome is checked by the
 * scenario before the measurement counts.
 */

import type { RuntimeName } from "../../runtime/detect.ts";
import { fs, paths } from "../../runtime/fs.ts";
import { cwd } from "../../runtime/process.ts";
import { type ChildReport, type ChildSpec, decodeLine, type Sample } from "../protocol.ts";
import type { Measurement } from "../runner.ts";
import type { Scenario } from "../scenario.ts";
import { repoRoot } from "../scenarios/repo-peer.ts";
import { rate } from "../stats.ts";
import { runProcess, runtimeCommand } from "./host.ts";

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/**
 * The measuring process's entry: `child.ts` next to the runner from source; when built, the
 * bundled child (`dist/bundle/bench-child.js`), the same copy of sluice a scenario's
 * `import "sluice"` loads.
 */
export function childScript(): string {
  const ts = import.meta.url.endsWith(".ts");
  return paths.fromFileUrl(new URL(ts ? "../child.ts" : "../../bundle/bench-child.js", import.meta.url));
}

interface Phase {
  readonly report?: ChildReport;
  readonly samples: Sample[];
  /** Parent-observed time from the child's start mark to its exit. */
  readonly workMs: number;
  readonly signal: string | null;
  readonly code: number | null;
  readonly stderr: string;
  readonly timedOut: boolean;
}

async function runChild(
  spec: ChildSpec,
  runtime: RuntimeName,
  dir: string,
  cap: number | undefined,
  timeoutMs: number,
  env: Record<string, string | undefined>,
  onRows: (rows: number) => void,
  signal: AbortSignal | undefined,
): Promise<Phase> {
  await fs.mkdirp(dir);
  const specFile = paths.join(dir, "spec.json");
  await fs.writeText(specFile, JSON.stringify(spec));
  const cmd = runtimeCommand(runtime, childScript(), {
    root: paths.fromFileUrl(repoRoot),
    maxOldSpaceMb: cap,
  });
  if (typeof cmd === "string") throw new Error(cmd);
  let report: ChildReport | undefined;
  let startAt: number | undefined;
  let lastAt = 0;
  const samples: Sample[] = [];
  const r = await runProcess(cmd.cmd, [...cmd.args, specFile], {
    cwd: cwd(),
    env: { ...env, NO_COLOR: "1", SLUICE_METRICS: undefined },
    timeoutMs,
    signal,
    onLine(line, at) {
      const msg = decodeLine(line);
      if (!msg) return;
      lastAt = at;
      if (msg.type === "start") startAt = at;
      else if (msg.type === "sample") {
        samples.push(msg.sample);
        onRows(msg.sample.rows);
      } else report = msg.report;
    },
  });
  const workMs = startAt === undefined ? 0 : Math.max(lastAt, r.wallMs) - startAt;
  return { report, samples, workMs, signal: r.signal, code: r.code, stderr: r.stderr, timedOut: r.timedOut };
}

export async function measure(
  s: Scenario<unknown>,
  spec: ChildSpec,
  runtime: RuntimeName,
  round: number,
  dir: string,
  cap: number | undefined,
  onRows: (rows: number) => void,
  signal?: AbortSignal,
): Promise<Measurement> {
  const timeout = s.measure.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const kill = spec.implementation === "sluice" ? s.measure.killAfterCheckpoints : undefined;
  let first: Phase | undefined;
  let offset = 0;
  if (kill !== undefined) {
    first = await runChild(
      spec,
      runtime,
      dir,
      cap,
      timeout,
      { SLUICE_FAULT: `after-checkpoint@${kill}` },
      onRows,
      signal,
    );
    if (first.signal !== "SIGKILL" || first.report) {
      const why = first.report?.ok
        ? `the run finished before checkpoint ${kill}, so it was never killed: use more rows`
        : phaseError(first, runtime);
      return failedMeasurement(round, spec.implementation, runtime, why);
    }
    offset = first.workMs;
  }
  const last = await runChild(spec, runtime, dir, cap, timeout, {}, onRows, signal);
  const rep = last.report;
  if (!rep?.ok) return failedMeasurement(round, spec.implementation, runtime, phaseError(last, runtime));
  const problem = rep.outcome ? s.measure.check?.(rep.outcome, spec.data) : "no outcome reported";
  if (problem) return failedMeasurement(round, spec.implementation, runtime, problem);
  const firstSamples = first?.samples ?? [];
  const lastFirst = firstSamples[firstSamples.length - 1];
  const wallMs = offset + rep.wallMs;
  const timeline = [...firstSamples, ...rep.timeline.map((x) => ({ ...x, t: x.t + offset }))];
  const peakRssMb = Math.max(rep.peakRssMb, ...firstSamples.map((x) => x.rssMb));
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(rep.metrics)) metrics[k] = v.value;
  return {
    round,
    implementation: spec.implementation,
    runtime,
    ok: true,
    runtimeVersion: rep.runtimeVersion,
    wallMs,
    cpuMs: rep.cpuMs + (lastFirst?.cpuMs ?? 0),
    peakRssMb,
    rowsPerS: rate(spec.rows, wallMs),
    p50Ms: rep.latency?.p50,
    p99Ms: rep.latency?.p99,
    digest: rep.outcome?.digest,
    timeline,
    metrics,
    killed: first ? true : undefined,
  };
}

function phaseError(p: Phase, runtime: RuntimeName): string {
  if (p.report?.error) return p.report.error;
  if (p.timedOut) return "timed out";
  const tail = p.stderr.trim().split("\n").slice(-3).join(" | ");
  const oom = /heap out of memory|Allocation failed|out of memory/i.test(p.stderr);
  const how = p.signal ? `killed by ${p.signal}` : `exited with code ${p.code}`;
  return `${runtime} process ${how}${oom ? " (out of memory)" : ""}${tail ? `: ${tail}` : ""}`;
}

export function failedMeasurement(
  round: number,
  implementation: string,
  runtime: RuntimeName,
  error: string,
): Measurement {
  return {
    round,
    implementation,
    runtime,
    ok: false,
    error,
    wallMs: Number.NaN,
    cpuMs: Number.NaN,
    peakRssMb: Number.NaN,
    rowsPerS: Number.NaN,
    timeline: [],
    metrics: {},
  };
}
