/**
 * @module `sluice bench [NAME|FILE…]`: runs benchmark scenarios (the built-in
 * ones and those in `./benchmarks/scenarios/*.bench.ts` by default), each
 * measurement in its own process, optionally with the peers side by side
 * and on several runtimes; prints a table (or `--json`), writes `--html`,
 * records the results in the metrics store and compares them with the
 * stored baseline. Exits 1 when a measurement failed, or with `--check`
 * when sluice regressed beyond tolerance.
 */

import { gitRevision, machineInfo } from "../../bench/internal/host.ts";
import { builtinScenario, type LoadedScenario, loadScenarioFile } from "../../bench/load.ts";
import { renderHtml } from "../../bench/report/html.ts";
import { progressBar } from "../../bench/report/progress.ts";
import { renderReport } from "../../bench/report/table.ts";
import {
  type BaselineComparison,
  compareAndRecord,
  DEFAULT_TOLERANCES,
  type Tolerances,
  toJson,
} from "../../bench/results.ts";
import { runBench } from "../../bench/runner.ts";
import type { ScaleName } from "../../bench/scenario.ts";
import { builtinScenarios } from "../../bench/scenarios/index.ts";
import { type BenchStore, openBenchStore } from "../../bench/store.ts";
import { CancelledError, describeError } from "../../pipeline/errors.ts";
import { stateHome } from "../../pipeline/run.ts";
import { type RuntimeName, runtimeName } from "../../runtime/detect.ts";
import { fs, paths } from "../../runtime/fs.ts";
import { cwd, onSignal, stderr, stdout } from "../../runtime/process.ts";
import { EXIT, UsageError } from "../errors.ts";

export interface BenchFlags {
  readonly targets: readonly string[];
  readonly peers: boolean;
  /** Only these peers (implies peers). */
  readonly peer: readonly string[];
  readonly check: boolean;
  readonly json: boolean;
  readonly scale: string;
  readonly runs?: string;
  readonly runtime?: string;
  readonly html?: string;
  readonly home?: string;
  readonly tolerance?: string;
  readonly last?: string;
  readonly record: boolean;
  readonly seed?: string;
  readonly list: boolean;
  readonly quiet: boolean;
}

export const BENCH_HELP = `Usage: sluice bench [NAME|FILE…] [options]

  Runs benchmark scenarios: the built-in ones and ./benchmarks/scenarios/*.bench.ts
  (default), the named built-ins, or the scenarios a file exports.

Options:
  --peers              also run each scenario's peer implementations, alternating with sluice
  --peer NAME          run only this peer (repeatable; implies --peers)
  --scale S            tiny | small | full | a row count (default small)
  --runs N             measurements per implementation and runtime (default 3)
  --runtime LIST       node,bun,deno (default: the runtime running sluice)
  --json               print one JSON array of results instead of the table
  --html FILE          write a self-contained HTML report with charts
  --check              exit 1 if sluice regressed against the stored baseline
  --tolerance X        regression tolerance as a fraction for every figure (default rows/s 0.15, p99 0.5, RSS 0.2)
  --last N             baseline = median of the last N comparable results (default 10)
  --no-record          do not record these results in the metrics store
  --seed N             data generator seed (default 42)
  --home DIR           state directory (default: $SLUICE_HOME or ./.sluice)
  --list               list the scenarios and exit
  --quiet              no progress bar
`;

const RUNTIMES: readonly RuntimeName[] = ["node", "bun", "deno"];

export function parseScale(s: string): ScaleName | number {
  if (s === "tiny" || s === "small" || s === "full") return s;
  const n = Number(s.replace(/_/g, ""));
  if (Number.isInteger(n) && n > 0) return n;
  throw new UsageError(`bench: --scale must be tiny, small, full or a row count, got "${s}"`);
}

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`bench: --${name} must be a positive integer, got "${v}"`);
  return n;
}

export function parseRuntimes(v: string | undefined): RuntimeName[] {
  if (v === undefined) return [runtimeName];
  const list = v
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  for (const r of list) {
    if (!RUNTIMES.includes(r as RuntimeName)) {
      throw new UsageError(`bench: unknown runtime "${r}" in --runtime; use node, bun and/or deno`);
    }
  }
  if (list.length === 0) throw new UsageError("bench: --runtime needs at least one of node, bun, deno");
  return [...new Set(list)] as RuntimeName[];
}

/** The scenarios of `./benchmarks/scenarios/*.bench.ts` in the working directory. */
async function projectScenarios(): Promise<LoadedScenario[]> {
  const dir = paths.join(cwd(), "benchmarks", "scenarios");
  const out: LoadedScenario[] = [];
  for (const f of (await fs.readdir(dir)).sort()) {
    if (/\.bench\.[cm]?[jt]s$/.test(f)) out.push(...(await loadScenarioFile(paths.join(dir, f))));
  }
  return out;
}

/**
 * Scenarios for the command line's targets: built-in names, names exported by
 * `./benchmarks/scenarios/*.bench.ts`, or files; none means all of the first two.
 */
export async function resolveScenarios(targets: readonly string[]): Promise<LoadedScenario[]> {
  const builtins = builtinScenarios.map((s) => builtinScenario(s.name)!);
  if (targets.length === 0) return [...builtins, ...(await projectScenarios())];
  const out: LoadedScenario[] = [];
  let project: LoadedScenario[] | undefined;
  for (const t of targets) {
    const b = builtinScenario(t);
    if (b) {
      out.push(b);
      continue;
    }
    if (/[/\\]|\.[cm]?[jt]s$/.test(t)) {
      out.push(...(await loadScenarioFile(t)));
      continue;
    }
    project ??= await projectScenarios();
    const found = project.filter((s) => s.scenario.name === t);
    if (found.length === 0) {
      const names = [...builtins, ...project].map((s) => s.scenario.name).join(", ");
      throw new UsageError(`bench: no scenario "${t}"; known: ${names} (or give a file path)`);
    }
    out.push(...found);
  }
  return out;
}

export async function benchCommand(flags: BenchFlags): Promise<number> {
  const scale = parseScale(flags.scale);
  const runs = positiveInt("runs", flags.runs, 3);
  const last = positiveInt("last", flags.last, 10);
  const seed = flags.seed === undefined ? 42 : Number(flags.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`bench: --seed must be an integer, got "${flags.seed}"`);
  let tolerances: Tolerances = DEFAULT_TOLERANCES;
  if (flags.tolerance !== undefined) {
    const t = Number(flags.tolerance);
    if (!(t >= 0))
      throw new UsageError(`bench: --tolerance must be a fraction ≥ 0, got "${flags.tolerance}"`);
    tolerances = { rows_per_s: t, p99_ms: t, peak_rss_mb: t };
  }
  const runtimes = parseRuntimes(flags.runtime);
  const scenarios = await resolveScenarios(flags.targets);
  if (flags.list) {
    for (const { scenario: s, source } of scenarios) {
      const peers = Object.keys(s.peers);
      stdout.write(
        `${s.name.padEnd(16)} ${s.description ?? ""}${source.kind === "file" ? ` [${source.file}]` : ""}\n` +
          `${"".padEnd(16)} rows: tiny ${s.sizes.tiny}, small ${s.sizes.small}, full ${s.sizes.full}` +
          `${peers.length ? ` · peers: ${peers.join(", ")}` : ""}\n`,
      );
    }
    return EXIT.ok;
  }
  const home = stateHome(flags.home);
  const machine = machineInfo();
  const git = await gitRevision(cwd());
  const controller = new AbortController();
  const off = onSignal("SIGINT", () => controller.abort());
  const bar = flags.quiet ? undefined : progressBar(stderr);
  let run: Awaited<ReturnType<typeof runBench>>;
  try {
    run = await runBench({
      scenarios,
      scale,
      runs,
      runtimes,
      peers: flags.peer.length > 0 ? flags.peer : flags.peers,
      home,
      seed,
      signal: controller.signal,
      onProgress: (p) => bar?.update(p),
    });
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
    bar?.stop();
    stderr.write("sluice: bench interrupted; nothing recorded\n");
    return EXIT.interrupted;
  } finally {
    bar?.stop();
    off();
  }
  const loadAfter = machineInfo().loadAverage;

  let comparisons = new Map<(typeof run.results)[number], BaselineComparison>();
  let storeNote: string | undefined;
  let store: BenchStore | undefined;
  try {
    store = await openBenchStore(home);
    comparisons = await compareAndRecord(run, machine, git, store, {
      last,
      tolerances,
      record: flags.record,
    });
    storeNote = `results ${flags.record ? "recorded in" : "compared with (not recorded)"} ${store.location}`;
  } catch (e) {
    storeNote = `results not compared or recorded: the metrics store is unavailable (${describeError(e)})`;
  } finally {
    await store?.close().catch(() => {});
  }

  const ctx = { machine, loadAfter, git, comparisons, storeNote };
  if (flags.json) stdout.write(`${JSON.stringify(toJson(run, comparisons, machine, git), null, 2)}\n`);
  else stdout.write(`${renderReport(run, ctx)}\n`);
  if (flags.html) {
    const out = paths.resolve(flags.html);
    await fs.mkdirp(paths.dirname(out));
    await fs.writeText(out, renderHtml(run, ctx));
    stderr.write(`sluice: report written to ${out}\n`);
  }
  const failed = run.results.some((r) => r.status === "failed");
  const regressed = [...comparisons.values()].some((c) => c.regressed);
  if (flags.check && storeNote.startsWith("results not")) {
    stderr.write("sluice: --check: no baseline to check against (the metrics store is unavailable)\n");
    return EXIT.failed;
  }
  if (failed) return EXIT.failed;
  return flags.check && regressed ? EXIT.failed : EXIT.ok;
}
