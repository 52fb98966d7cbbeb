/**
 * @module What full metrics cost a pipeline, in one command:
 *
 *   node --import tsx benchmarks/metrics-overhead.bench.ts [--rows 10000000] [--rounds 5] [--work DIR]
 *   (npm run bench:metrics-overhead)
 *
 * The CSV pipeline (orders from `ensureOrdersCsv`, no schema → filter → map →
 * NDJSON; `benchmarks/peers/resume-pipeline.ts`) is run with the CLI exactly as
 * a user runs it, `sluice run FILE --fresh --quiet`, with metrics on (the
 * default: every event into the DuckDB store, alert rules evaluated,
 * resources sampled every second) and with `SLUICE_METRICS=off` (no store, no
 * alert engine). Rounds alternate the order. Each run's throughput is its
 * `run.ended` event's rows ÷ duration (the run itself, not process start or
 * the store's last flush at exit); its CPU time comes from GNU time over the
 * whole process (the store's DuckDB threads included). Reports the median of
 * each and the ratio on ÷ off. Target: throughput cost ≤ 3%.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { listRuns } from "../src/journal/runs.ts";
import { ensureOrdersCsv } from "../src/testing/generate.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = join(here, "..");
const cli = join(repo, "bin", "sluice.js");
const pipelineFile = join(here, "peers", "resume-pipeline.ts");
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const ROWS = Number(arg("rows", "10000000"));
const ROUNDS = Number(arg("rounds", "5"));
const TIME = "/usr/bin/time";

if (!existsSync(join(repo, "dist", "bundle", "cli.js")))
  throw new Error("run `npm run build` first (the CLI runs from dist/)");
if (!existsSync(TIME))
  throw new Error(`${TIME} (GNU time) is needed for CPU figures: apt-get install -y time`);

const dataDir = join(here, "data");
// Each run's output, journal and metrics store go to a RAM disk where there is one: the
// machine's disk (fsyncs, page-cache writeback of the 10M-row output) varied more from
// round to round than the effect being measured. `--work DIR` picks another place.
const work = arg(
  "work",
  existsSync("/dev/shm") ? "/dev/shm/sluice-metrics-overhead" : join(dataDir, "metrics-overhead"),
);
const file = join(dataDir, `orders-${ROWS}.csv`);
await ensureOrdersCsv(file, { rows: ROWS });
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

type Variant = "on" | "off";
interface Result {
  rowsPerS: number;
  durationMs: number;
  cpuS: number;
  wallS: number;
}

async function once(variant: Variant, round: number): Promise<Result> {
  const cwd = join(work, `${variant}-${round}`);
  mkdirSync(cwd, { recursive: true });
  const home = join(cwd, ".s");
  const env: Record<string, string | undefined> = {
    ...process.env,
    BENCH_CSV: file,
    BENCH_OUT: join(cwd, "out.ndjson"),
    BENCH_MARK: "",
    SLUICE_METRICS: variant === "off" ? "off" : undefined,
  };
  const r = spawnSync(
    TIME,
    ["-f", "%U %S %e", process.execPath, cli, "run", pipelineFile, "--home", home, "--fresh", "--quiet"],
    { cwd, env: env as NodeJS.ProcessEnv, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`metrics ${variant}: exit ${r.status}\n${r.stderr}`);
  const [user, sys, wall] = r.stderr.trim().split("\n").at(-1)?.split(" ").map(Number) ?? [];
  const run = (await listRuns(home, "bench-resume")).at(-1);
  const ended = run?.ended;
  if (ended?.status !== "completed") throw new Error(`metrics ${variant}: run did not complete`);
  if (variant === "on" && !existsSync(join(home, "metrics.duckdb")))
    throw new Error("metrics on: no store was written");
  if (variant === "off" && existsSync(join(home, "metrics.duckdb")))
    throw new Error("metrics off: a store was written");
  rmSync(cwd, { recursive: true, force: true });
  return {
    rowsPerS: (ended.rowsIn / ended.durationMs) * 1000,
    durationMs: ended.durationMs,
    cpuS: user + sys,
    wallS: wall,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

console.log(
  `metrics overhead — node ${process.version}, ${ROWS.toLocaleString("en-US")} rows, ${ROUNDS} rounds, load average ${loadavg()[0].toFixed(1)}, runs in ${work}`,
);
const results: Record<Variant, Result[]> = { on: [], off: [] };
for (let k = 0; k < ROUNDS; k++) {
  const order: Variant[] = k % 2 === 0 ? ["off", "on"] : ["on", "off"];
  for (const v of order) {
    const r = await once(v, k);
    results[v].push(r);
    console.log(
      `  round ${k + 1} metrics ${v.padEnd(3)}  ${(r.rowsPerS / 1e6).toFixed(2)}M rows/s  run ${(r.durationMs / 1000).toFixed(2)} s  process ${r.wallS.toFixed(2)} s wall, ${r.cpuS.toFixed(2)} s CPU`,
    );
  }
}
const on = median(results.on.map((r) => r.rowsPerS));
const off = median(results.off.map((r) => r.rowsPerS));
const cpuOn = median(results.on.map((r) => r.cpuS));
const cpuOff = median(results.off.map((r) => r.cpuS));
const cost = (1 - on / off) * 100;
console.log(
  `\nmedian throughput: metrics on ${(on / 1e6).toFixed(2)}M rows/s, off ${(off / 1e6).toFixed(2)}M rows/s → on ÷ off = ${(on / off).toFixed(3)} (cost ${cost.toFixed(1)}%, target ≤ 3%: ${cost <= 3 ? "met" : "NOT met"})`,
);
// Each round's pair ran back to back, so its ratio is less exposed to the machine's drift.
const paired = results.on.map((r, k) => r.rowsPerS / results.off[k].rowsPerS);
console.log(
  `per-round on ÷ off: ${paired.map((x) => x.toFixed(3)).join(", ")} → median ${median(paired).toFixed(3)}`,
);
console.log(
  `median process CPU: on ${cpuOn.toFixed(2)} s, off ${cpuOff.toFixed(2)} s → on ÷ off = ${(cpuOn / cpuOff).toFixed(3)}; load average now ${loadavg()[0].toFixed(1)}`,
);
rmSync(work, { recursive: true, force: true });
