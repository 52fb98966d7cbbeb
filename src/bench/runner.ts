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
import { describeError } from "../pipeline/errors.ts";
import { bundleForNode, runProcess, runtimeCommand } from "../runtime/bench-host.ts";
import type { RuntimeName } from "../runtime/detect.ts";
import { fs, paths } from "../runtime/fs.ts";
import { cwd } from "../runtime/process.ts";
import type { LoadedScenario } from "./load.ts";
import { type ChildReport, type ChildSpec, decodeLine, type Sample } from "./protocol.ts";
import {
  type GenerateContext,
  type LazyPeer,
  type Peer,
  rowsFor,
  type ScaleName,
  type Scenario,
} from "./scenario.ts";
import { repoRoot } from "./scenarios/repo-peer.ts";
import { pairedRatios, rate, type Spread, spread } from "./stats.ts";

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

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** Runs the scenarios and returns every summary (failures are results, not exceptions). */
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
            if (options.signal?.aborted) throw new Error("bench interrupted");
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
            if (options.signal?.aborted) throw new Error("bench interrupted");
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

/** Where a measuring process imports a peer module from, per runtime (compiled for Node when possible). */
async function peerRef(
  s: Scenario<unknown>,
  impl: string,
  runtime: RuntimeName,
  compiled: Map<string, string>,
): Promise<ChildSpec["peer"]> {
  const p = s.peers[impl];
  if (!p || typeof p === "function" || !p.href) return undefined;
  const exportName = p.exportName ?? "default";
  if (runtime !== "node" || childScript().endsWith(".ts") || !p.href.endsWith(".ts")) {
    return { href: p.href, exportName };
  }
  // A repository peer on Node, measured from the built CLI: bundle it to JavaScript once per bench run.
  const benchDir = new URL("benchmarks/", repoRoot).href;
  if (!p.href.startsWith(benchDir)) return { href: p.href, exportName };
  let href = compiled.get(p.href);
  if (href === undefined) {
    const name = paths.basename(paths.fromFileUrl(p.href)).replace(/\.ts$/, ".mjs");
    const out = paths.join(paths.fromFileUrl(benchDir), "data", "compiled-peers", name);
    href = (await bundleForNode(paths.fromFileUrl(p.href), out)) ? paths.toFileUrl(out) : p.href;
    compiled.set(p.href, href);
  }
  return { href, exportName };
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

/** A lazy peer whose module file is not there (an installed sluice has no benchmarks/peers). */
async function peerMissing(peer: Peer<unknown> | LazyPeer<unknown>): Promise<string | undefined> {
  const href = typeof peer === "function" ? undefined : peer.href;
  if (!href?.startsWith("file:")) return undefined;
  const path = paths.fromFileUrl(href);
  return (await fs.stat(path)) ? undefined : `peer not installed (${path} is part of the sluice repository)`;
}

function memoryCap(s: Scenario<unknown>, rows: number): number | undefined {
  const c = s.measure.memoryCapMb;
  return typeof c === "function" ? c(rows) : c;
}

/** Generates (or finds) the scenario's data in `<home>/bench/data/<scenario>-<rows>-s<seed>/`. */
export async function generate(
  loaded: LoadedScenario,
  rows: number,
  seed: number,
  options: { home: string },
): Promise<unknown> {
  const s = loaded.scenario;
  const tag = loaded.source.kind === "file" ? `${s.name}-${shortHash(loaded.source.file)}` : s.name;
  const dir = paths.join(options.home, "bench", "data", `${tag}-${rows}-s${seed}`);
  await fs.mkdirp(dir);
  const ctx: GenerateContext = {
    rows,
    seed,
    scale: "rows",
    dir,
    async file(name, pieces) {
      const path = paths.join(dir, name);
      if (await fs.stat(path)) return path;
      const part = `${path}.part`;
      const w = await fs.openWriter(part);
      try {
        for await (const piece of pieces) await w.write(piece);
      } finally {
        await w.close();
      }
      await fs.rename(part, path);
      return path;
    },
  };
  return s.generate(ctx);
}

function childScript(): string {
  const ts = import.meta.url.endsWith(".ts");
  return paths.fromFileUrl(new URL(ts ? "./child.ts" : "./child.js", import.meta.url));
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

async function measure(
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

function failedMeasurement(
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

/** Marks measurements whose output digest differs from sluice's on the same runtime and round. */
function crossCheck(taken: Measurement[]): void {
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

function summarise(
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

function skipped(
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

function failed(
  scenario: string,
  impl: string,
  runtime: RuntimeName,
  rows: number,
  why: string,
): ResultSummary {
  return { ...skipped(scenario, impl, runtime, rows, why), status: "failed" };
}

function benchRunId(t: number): string {
  const stamp = new Date(t).toISOString().replace(/[-:]/g, "").replace(".", "");
  const rand = crypto.getRandomValues(new Uint8Array(3));
  return `bench-${stamp}-${Array.from(rand, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}
