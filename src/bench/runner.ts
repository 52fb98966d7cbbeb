/**
 * @module The bench runner: for each scenario, generates its data once, then
 * takes every measurement in its own child process (so peak RSS belongs to
 * one implementation on one runtime) in rounds — each round runs sluice and
 * every peer on every runtime, in an order that alternates from round to
 * round, so slow drift on a shared machine hits each pair alike. It checks
 * every outcome (the scenario's check, and the same output digest as sluice)
 * and summarises each (scenario, implementation, runtime) as medians with
 * min and max, and ratios against sluice taken pair by pair.
 */
import { CancelledError, describeError } from "../pipeline/errors.ts";
import type { RuntimeName } from "../runtime/detect.ts";
import { fs, paths } from "../runtime/fs.ts";
import { failedMeasurement, measure } from "./internal/measure.ts";
import { generate, peerMissing, peerRef } from "./internal/prepare.ts";
import { crossCheck, failed, skipped, summarise } from "./internal/summarise.ts";
import type { LoadedScenario } from "./load.ts";
import type { ChildSpec, Sample } from "./protocol.ts";
import { rowsFor, type ScaleName, type Scenario } from "./scenario.ts";
import type { Spread } from "./stats.ts";

export { generate } from "./internal/prepare.ts";

export interface BenchOptions {
  readonly scenarios: readonly LoadedScenario[];
  readonly scale: ScaleName | number;
  /** Measurements per implementation and runtime (default 3). */
  readonly runs?: number;
  /** Default: the runtime running the bench. */
  readonly runtimes: readonly RuntimeName[];
  /** Run the peers too: all of them, or those named. */
  readonly peers?: boolean | readonly string[];
  /** State directory: data is cached under `<home>/bench/data`, scratch space under `<home>/bench/tmp`. */
  readonly home: string;
  readonly seed?: number;
  /** Timeline sample period in ms (default 100). */
  readonly sampleMs?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: BenchProgress) => void;
}

export interface BenchProgress {
  /** Steps done and in all (a step is one data generation or one measurement). */
  readonly done: number;
  readonly total: number;
  readonly label: string;
  /** Records the running measurement has processed, and how many it will (when known). */
  readonly rows?: number;
  readonly of?: number;
}

/** One measurement, as taken. */
export interface Measurement {
  readonly round: number;
  readonly implementation: string;
  readonly runtime: RuntimeName;
  readonly ok: boolean;
  readonly error?: string;
  readonly runtimeVersion?: string;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMb: number;
  readonly rowsPerS: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly digest?: string;
  readonly timeline: readonly Sample[];
  readonly metrics: Readonly<Record<string, number>>;
  /** For kill-and-resume scenarios: whether the first process was killed as planned. */
  readonly killed?: boolean;
}

/** The summary of one (scenario, implementation, runtime). */
export interface ResultSummary {
  readonly scenario: string;
  readonly implementation: string;
  readonly runtime: RuntimeName;
  readonly runtimeVersion: string;
  readonly status: "ok" | "failed" | "skipped";
  readonly note?: string;
  readonly rows: number;
  /** Successful measurements the figures are taken over. */
  readonly runs: number;
  readonly rowsPerS?: Spread;
  readonly wallMs?: Spread;
  readonly cpuMs?: Spread;
  readonly p50Ms?: Spread;
  readonly p99Ms?: Spread;
  readonly peakRssMb?: Spread;
  readonly memoryCapMb?: number;
  /** Pairwise against sluice on the same runtime: this rows/s ÷ sluice rows/s, this RSS ÷ sluice RSS. */
  readonly vsSluice?: { readonly rowsPerS?: Spread; readonly peakRssMb?: Spread };
  readonly metrics: Readonly<Record<string, Spread>>;
  /** The timeline of the median run (by wall time), for charts. */
  readonly timeline: readonly Sample[];
  readonly measurements: readonly Measurement[];
}

export interface BenchRun {
  readonly id: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly scale: ScaleName | number;
  readonly runs: number;
  readonly seed: number;
  readonly runtimes: readonly RuntimeName[];
  readonly results: readonly ResultSummary[];
}

/**
 * Runs the scenarios and returns every summary (failed measurements are
 * results, not exceptions; aborting `signal` throws a `CancelledError`).
 *
 * @example
 * ```ts
 * import { builtinScenarios, runBench } from "sluice/bench";
 *
 * const run = await runBench({
 *   scenarios: builtinScenarios.filter((s) => s.name === "csv-etl").map((scenario) => ({
 *     scenario,
 *     source: { kind: "builtin", name: scenario.name },
 *   })),
 *   scale: "tiny",
 *   runtimes: ["node"],
 *   peers: ["papaparse"],
 *   home: ".sluice",
 * });
 * for (const r of run.results) console.log(r.implementation, r.rowsPerS?.median, r.vsSluice?.rowsPerS?.median);
 * ```
 */
export async function runBench(options: BenchOptions): Promise<BenchRun> {
  const startedAt = Date.now();
  const id = benchRunId(startedAt);
  const runs = options.runs ?? 3;
  if (!Number.isInteger(runs) || runs < 1)
    throw new RangeError(`runs must be a positive integer, got ${runs}`);
  const seed = options.seed ?? 42;
  const tmp = paths.join(options.home, "bench", "tmp", id);
  const plans = await Promise.all(options.scenarios.map((s) => plan(s, options)));
  const total = plans.reduce(
    (a, p) => a + (p.skip ? 0 : 1 + runs * p.impls.length * options.runtimes.length),
    0,
  );
  let done = 0;
  const progress = (label: string, rows?: number, of?: number) =>
    options.onProgress?.({ done, total, label, rows, of });
  const results: ResultSummary[] = [];
  const compiled = new Map<string, string>();
  let serial = 0;
  try {
    for (const p of plans) {
      const s = p.loaded.scenario;
      const rows = rowsFor(s, options.scale);
      if (p.skip) {
        for (const rt of options.runtimes) results.push(skipped(s.name, "sluice", rt, rows, p.skip));
        continue;
      }
      progress(`${s.name}: generating ${rows.toLocaleString("en-US")} rows`);
      let data: unknown;
      try {
        data = await generate(p.loaded, rows, seed, options);
      } catch (e) {
        const why = `data generation failed: ${describeError(e)}`;
        for (const rt of options.runtimes) results.push(failed(s.name, "sluice", rt, rows, why));
        done += runs * p.impls.length * options.runtimes.length;
        continue;
      } finally {
        done++;
      }
      const dataRows = s.measure.rows?.(data) ?? rows;
      const cap = memoryCap(s, dataRows);
      const taken: Measurement[] = [];
      for (let round = 0; round < runs; round++) {
        for (const runtime of options.runtimes) {
          const order = roundOrder(p.impls, round);
          for (const impl of order) {
            if (options.signal?.aborted) throw new CancelledError("sluice bench was interrupted");
            const label = `${s.name} · ${impl} · ${runtime} · run ${round + 1}/${runs}`;
            progress(label, 0, dataRows);
            const dir = paths.join(tmp, String(serial++));
            const spec: ChildSpec = {
              source: p.loaded.source,
              implementation: impl,
              peer: impl === "sluice" ? undefined : await peerRef(s, impl, runtime, compiled),
              data,
              rows: dataRows,
              outDir: paths.join(dir, "out"),
              home: paths.join(dir, "home"),
              sampleMs: options.sampleMs ?? 100,
            };
            let m: Measurement;
            try {
              m = await measure(
                s,
                spec,
                runtime,
                round,
                dir,
                cap,
                (r) => progress(label, r, dataRows),
                options.signal,
              );
            } catch (e) {
              m = failedMeasurement(round, impl, runtime, describeError(e));
            } finally {
              await fs.remove(dir).catch(() => {});
            }
            if (options.signal?.aborted) throw new CancelledError("sluice bench was interrupted");
            taken.push(m);
            done++;
          }
        }
      }
      crossCheck(taken);
      for (const runtime of options.runtimes) {
        for (const impl of p.impls) {
          results.push(summarise(s.name, impl, runtime, dataRows, cap, taken));
        }
        for (const [impl, why] of p.unavailablePeers)
          results.push(skipped(s.name, impl, runtime, dataRows, why));
      }
    }
  } finally {
    await fs.remove(tmp).catch(() => {});
  }
  return {
    id,
    startedAt,
    finishedAt: Date.now(),
    scale: options.scale,
    runs,
    seed,
    runtimes: options.runtimes,
    results,
  };
}

/**
 * The order implementations run in, round by round: as listed in even
 * rounds, reversed in odd ones — so over two rounds each peer runs once
 * before and once after sluice, and drift does not favour either side.
 */
export function roundOrder<T>(impls: readonly T[], round: number): readonly T[] {
  return round % 2 === 0 ? impls : [...impls].reverse();
}

interface Plan {
  readonly loaded: LoadedScenario;
  readonly skip?: string;
  readonly impls: readonly string[];
  readonly unavailablePeers: ReadonlyArray<readonly [string, string]>;
}

async function plan(loaded: LoadedScenario, options: BenchOptions): Promise<Plan> {
  const s = loaded.scenario;
  let skip: string | undefined;
  try {
    skip = await s.unavailable?.();
  } catch (e) {
    skip = describeError(e);
  }
  const wanted = options.peers === true ? Object.keys(s.peers) : options.peers ? [...options.peers] : [];
  const impls = ["sluice"];
  const unavailablePeers: Array<[string, string]> = [];
  for (const name of wanted) {
    const peer = s.peers[name];
    if (!peer) continue;
    const missing = await peerMissing(peer);
    if (missing) unavailablePeers.push([name, missing]);
    else impls.push(name);
  }
  return { loaded, skip, impls, unavailablePeers };
}

function memoryCap(s: Scenario<unknown>, rows: number): number | undefined {
  const c = s.measure.memoryCapMb;
  return typeof c === "function" ? c(rows) : c;
}

function benchRunId(t: number): string {
  const stamp = new Date(t).toISOString().replace(/[-:]/g, "").replace(".", "");
  const rand = crypto.getRandomValues(new Uint8Array(3));
  return `bench-${stamp}-${Array.from(rand, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
