/**
 * @module From measurements to one summary per scenario, implementation and
 * runtime: outputs cross-checked against sluice's, medians with min and max,
 * ratios against sluice pair by pair (same runtime, same round), and the
 * timeline of the median run.
 */
import type { RuntimeName } from "../../runtime/detect.ts";
import type { Measurement, ResultSummary } from "../runner.ts";
import { pairedRatios, type Spread, spread } from "../stats.ts";

/** Marks measurements whose output digest differs from sluice's on the same runtime and round. */
export function crossCheck(taken: Measurement[]): void {
  for (let i = 0; i < taken.length; i++) {
    const m = taken[i];
    if (!m.ok || m.implementation === "sluice" || m.digest === undefined) continue;
    const ref =
      taken.find(
        (x) => x.ok && x.implementation === "sluice" && x.runtime === m.runtime && x.round === m.round,
      ) ?? taken.find((x) => x.ok && x.implementation === "sluice");
    if (ref?.digest !== undefined && ref.digest !== m.digest) {
      taken[i] = {
        ...m,
        ok: false,
        error: `output differs from sluice's (digest ${m.digest} ≠ ${ref.digest})`,
      };
    }
  }
}

export function summarise(
  scenario: string,
  impl: string,
  runtime: RuntimeName,
  rows: number,
  cap: number | undefined,
  taken: readonly Measurement[],
): ResultSummary {
  const mine = taken.filter((m) => m.implementation === impl && m.runtime === runtime);
  const ok = mine.filter((m) => m.ok);
  const errors = [...new Set(mine.filter((m) => !m.ok).map((m) => m.error ?? "failed"))];
  const version = ok[0]?.runtimeVersion ?? mine.find((m) => m.runtimeVersion)?.runtimeVersion ?? "";
  const pick = (f: (m: Measurement) => number | undefined) =>
    spread(ok.map(f).filter((x): x is number => x !== undefined));
  let vsSluice: ResultSummary["vsSluice"];
  if (impl !== "sluice") {
    // Pair round r of this implementation with round r of sluice on the same runtime.
    const mineByRound = new Map(ok.map((m) => [m.round, m]));
    const ref = taken.filter((m) => m.ok && m.implementation === "sluice" && m.runtime === runtime);
    const pairs = ref
      .filter((r) => mineByRound.has(r.round))
      .map((r) => [mineByRound.get(r.round)!, r] as const);
    vsSluice = {
      rowsPerS: pairedRatios(
        pairs.map(([a]) => a.rowsPerS),
        pairs.map(([, b]) => b.rowsPerS),
      ),
      peakRssMb: pairedRatios(
        pairs.map(([a]) => a.peakRssMb),
        pairs.map(([, b]) => b.peakRssMb),
      ),
    };
  }
  const metricNames = [...new Set(ok.flatMap((m) => Object.keys(m.metrics)))];
  const metrics: Record<string, Spread> = {};
  for (const k of metricNames) {
    const sp = spread(ok.map((m) => m.metrics[k] ?? Number.NaN));
    if (sp) metrics[k] = sp;
  }
  const byWall = [...ok].sort((a, b) => a.wallMs - b.wallMs);
  const medianRun = byWall[Math.floor((byWall.length - 1) / 2)];
  return {
    scenario,
    implementation: impl,
    runtime,
    runtimeVersion: version,
    status: errors.length > 0 ? "failed" : "ok",
    note:
      errors.length > 0
        ? `${mine.length - ok.length} of ${mine.length} runs failed: ${errors.join("; ")}`
        : undefined,
    rows,
    runs: ok.length,
    rowsPerS: pick((m) => m.rowsPerS),
    wallMs: pick((m) => m.wallMs),
    cpuMs: pick((m) => m.cpuMs),
    p50Ms: pick((m) => m.p50Ms),
    p99Ms: pick((m) => m.p99Ms),
    peakRssMb: pick((m) => m.peakRssMb),
    memoryCapMb: cap,
    vsSluice,
    metrics,
    timeline: medianRun?.timeline ?? [],
    measurements: mine,
  };
}

export function skipped(
  scenario: string,
  impl: string,
  runtime: RuntimeName,
  rows: number,
  why: string,
): ResultSummary {
  return {
    scenario,
    implementation: impl,
    runtime,
    runtimeVersion: "",
    status: "skipped",
    note: why,
    rows,
    runs: 0,
    metrics: {},
    timeline: [],
    measurements: [],
  };
}

export function failed(
  scenario: string,
  impl: string,
  runtime: RuntimeName,
  rows: number,
  why: string,
): ResultSummary {
  return { ...skipped(scenario, impl, runtime, rows, why), status: "failed" };
}
