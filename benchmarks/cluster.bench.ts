/**
 * @module The distributed parallelMap (NATS JetStream, `sluice worker`), whole processes, as a
 * user runs it, in one command:
 *
 *   npm run bench:cluster      (= npm run build && node --import tsx benchmarks/cluster.bench.ts)
 *
 * Settings (env, or the flag in brackets): CLUSTER_BENCH_ROWS [--rows] records of the CPU-bound
 * part (default 20000: ~20 s of work, so start-up does not hide the scaling), CLUSTER_BENCH_WORK_US [--work-us] µs of CPU per record there (default
 * 1000), CLUSTER_BENCH_CHEAP_ROWS [--cheap-rows] records of the overhead part (default 20000,
 * 0 skips it), CLUSTER_BENCH_TASK_RECORDS [--task-records] records a task in its fixed-size
 * configuration (default 10), CLUSTER_BENCH_ROUNDS [--rounds] (default 3). Smoke test: CLUSTER_BENCH_ROWS=300
 * CLUSTER_BENCH_CHEAP_ROWS=1000 CLUSTER_BENCH_ROUNDS=1.
 *
 * Pipeline: `cluster/pipeline.ts` (CSV → parallelMap(`cluster/work.ts`) → NDJSON). Configurations:
 *   (a) local parallelMap, `workers: 1` — the "one local worker" baseline;
 *   (b) cluster, one `sluice worker --concurrency 1` process;
 *   (c) cluster, two `sluice worker --concurrency 1` processes;
 *   (d) local `workers: 2`, for reference.
 * One nats-server (JetStream, free port, temporary store) serves the whole bench. For a cluster
 * configuration the workers are started and ready (their first status line) before `sluice run`,
 * and sent SIGTERM after it (they drain and must exit 0). Each round runs every configuration
 * once, in an order rotated by one each round. Part 2 runs (a) and (b) on cheap records (0 µs)
 * for the cost per record and per task of the cluster (tasks: the run's `cluster.worker` events),
 * and (e) = (b) with a fixed, small task size: (e) − (b) is the cost of one more task with the
 * fixed costs of a cluster run (connect, job setup, the worker's pool start) cancelled out.
 *
 * Figures: wall of `sluice run` (the workers were already up, as a user's are); CPU user+sys of
 * `sluice run` (GNU time) + each worker's from ready to exit (GNU time's total less its CPU when
 * ready, /proc/PID/stat: a user's workers are long-lived, so their start is not counted; the
 * JSON has it as `cpu_workers_boot_s`) + nats-server's over the run (/proc/PID/stat); peak RSS
 * of `sluice run` and the sum of the workers' peaks. Medians over rounds; ratios taken round
 * by round, then the median. Every run's output must equal (a)'s byte for byte (sha256), else the
 * bench fails. The load average is printed at start and end: rerun when it was over 1.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = join(here, "..");
const sluiceJs = join(repo, "bin", "sluice.js");
const pipelineFile = join(here, "cluster", "pipeline.ts");
const setting = (flag: string, env: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${flag}`);
  const v = i !== -1 ? process.argv[i + 1] : process.env[env];
  const n = Number(v ?? fallback);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} / ${env}: not a number: ${v}`);
  return n;
};
const ROWS = setting("rows", "CLUSTER_BENCH_ROWS", 20000);
const WORK_US = setting("work-us", "CLUSTER_BENCH_WORK_US", 1000);
const CHEAP_ROWS = setting("cheap-rows", "CLUSTER_BENCH_CHEAP_ROWS", 20_000);
const TASK_RECORDS = Math.max(1, setting("task-records", "CLUSTER_BENCH_TASK_RECORDS", 10));
const ROUNDS = Math.max(1, setting("rounds", "CLUSTER_BENCH_ROUNDS", 3));
const TIME = "/usr/bin/time";
const NATS_SERVER = process.env.NATS_SERVER ?? "nats-server";
if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed: apt-get install -y time`);
if (!existsSync(join(repo, "dist", "bundle", "cli.js"))) throw new Error("run `npm run build` first");
if (spawnSync(NATS_SERVER, ["--version"]).status !== 0)
  throw new Error(`${NATS_SERVER} is needed: apt-get install -y nats-server`);
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

const work = existsSync("/dev/shm") ? "/dev/shm/sluice-cluster-bench" : join(here, "data", "cluster-work");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// ---------------------------------------------------------------- processes

interface Usage {
  wallS: number;
  cpuS: number;
  rssMB: number;
}

/** Starts `cmd` under GNU time (its figures go to a file); `done` resolves with them and the exit. */
function timedSpawn(
  name: string,
  cmd: string[],
  env: Record<string, string>,
): { proc: ChildProcess; stderr: () => string; done: Promise<Usage & { code: number | null }> } {
  const file = join(work, `${name}.time`);
  const t0 = performance.now();
  const proc = spawn(TIME, ["-f", "%e %U %S %M", "-o", file, ...cmd], {
    cwd: work,
    env: { ...process.env, ...env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  proc.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  proc.stdout?.resume();
  const done = new Promise<Usage & { code: number | null }>((resolve, reject) => {
    proc.once("error", reject);
    proc.once("exit", (code) => {
      const wallS = (performance.now() - t0) / 1000;
      const last = existsSync(file) ? (readFileSync(file, "utf8").trim().split("\n").pop() ?? "") : "";
      const [, user, sys, rss] = last.split(" ").map(Number);
      if (!Number.isFinite(user))
        reject(new Error(`${name}: no figures from GNU time (exit ${code}):\n${err}`));
      else resolve({ wallS, cpuS: user + sys, rssMB: rss / 1024, code });
    });
  });
  return { proc, stderr: () => err, done };
}

/** The pid of the process GNU time started (its only child). */
async function childOf(pid: number): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) return Number(entry);
      } catch {
        // gone meanwhile
      }
    }
    if (Date.now() > deadline) throw new Error(`no child of ${pid} after 5 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** CPU seconds (user+sys) a live process has used so far. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function peakRssMB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

async function startNats(): Promise<{ url: string; proc: ChildProcess; store: string }> {
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), "sluice-cluster-bench-js-"));
  const proc = spawn(NATS_SERVER, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", store], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const onData = (d: Buffer) => {
    log += d.toString();
  };
  proc.stdout?.on("data", onData);
  proc.stderr?.on("data", onData);
  const deadline = Date.now() + 10_000;
  while (!/Server is ready/.test(log)) {
    if (proc.exitCode !== null || Date.now() > deadline)
      throw new Error(`nats-server did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `nats://127.0.0.1:${port}`, proc, store };
}

// ---------------------------------------------------------------- one run of a configuration

interface Config {
  readonly key: "a" | "b" | "c" | "d" | "e";
  readonly name: string;
  /** Local threads, or cluster worker processes. */
  readonly local?: number;
  readonly remote?: number;
  /** Records per task; default "auto". */
  readonly batch?: number;
}

interface Measured {
  wallS: number;
  /** sluice run + workers + nats-server over the run. */
  cpuS: number;
  coordCpuS: number;
  /** The workers' CPU from ready (connected, waiting for jobs) to their exit. */
  workersCpuS: number;
  /** The workers' CPU before that: process start, loading the CLI, connecting. */
  workersBootCpuS: number;
  natsCpuS: number;
  coordRssMB: number;
  /** Sum of the workers' peaks. */
  workersRssMB: number;
  sha: string;
  /** Cluster: tasks run, and per worker. */
  tasks: number;
  tasksPerWorker: number[];
}

let runs = 0;

async function runConfig(c: Config, workUs: number, input: string, nats: Nats): Promise<Measured> {
  const n = runs++;
  const home = join(work, `home-${n}`);
  const out = join(work, `out-${n}.ndjson`);
  const env = {
    CLUSTER_BENCH_INPUT: input,
    CLUSTER_BENCH_OUT: out,
    CLUSTER_BENCH_WORK_US: String(workUs),
    CLUSTER_BENCH_WORKERS: String(c.local ?? 1),
    CLUSTER_BENCH_BATCH: c.batch ? String(c.batch) : "",
  };
  const workers: Array<ReturnType<typeof timedSpawn>> = [];
  for (let i = 0; i < (c.remote ?? 0); i++) {
    const w = timedSpawn(
      `worker-${n}-${i}`,
      ["node", sluiceJs, "worker", "--nats", nats.url, "--concurrency", "1"],
      env,
    );
    workers.push(w);
  }
  try {
    // Ready: a worker prints its first status line once connected and listening for jobs.
    const deadline = Date.now() + 30_000;
    while (workers.some((w) => !/sluice worker/.test(w.stderr()))) {
      if (Date.now() > deadline)
        throw new Error(`workers not ready in 30 s:\n${workers.map((w) => w.stderr())}`);
      if (workers.some((w) => w.proc.exitCode !== null)) throw new Error(`a worker exited early`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const pids = await Promise.all(workers.map((w) => childOf(w.proc.pid ?? 0)));
    const workersBootCpuS = pids.reduce((sum, pid) => sum + cpuOf(pid), 0);
    const natsBefore = cpuOf(nats.pid);
    const coord = timedSpawn(
      `run-${n}`,
      ["node", sluiceJs, "run", pipelineFile, "--fresh", "--quiet", "--home", home],
      c.remote ? { ...env, CLUSTER_BENCH_NATS: nats.url } : env,
    );
    const r = await coord.done;
    const natsCpuS = cpuOf(nats.pid) - natsBefore;
    if (r.code !== 0) throw new Error(`sluice run (${c.name}) exited ${r.code}:\n${coord.stderr()}`);
    for (const pid of pids) process.kill(pid, "SIGTERM");
    const ws = await Promise.all(workers.map((w) => w.done));
    ws.forEach((w, i) => {
      if (w.code !== 0)
        throw new Error(`worker ${i} exited ${w.code} after SIGTERM:\n${workers[i].stderr()}`);
    });
    const tasksPerWorker = c.remote ? clusterTasks(home, pids) : [];
    const coordCpuS = r.cpuS;
    const workersCpuS = ws.reduce((s, w) => s + w.cpuS, 0) - workersBootCpuS;
    return {
      wallS: r.wallS,
      cpuS: coordCpuS + workersCpuS + natsCpuS,
      coordCpuS,
      workersCpuS,
      workersBootCpuS,
      natsCpuS,
      coordRssMB: r.rssMB,
      workersRssMB: ws.reduce((s, w) => s + w.rssMB, 0),
      sha: createHash("sha256").update(readFileSync(out)).digest("hex"),
      tasks: tasksPerWorker.reduce((s, t) => s + t, 0),
      tasksPerWorker,
    };
  } finally {
    for (const w of workers) if (w.proc.exitCode === null) w.proc.kill("SIGKILL");
  }
}

/** Tasks each worker (by pid) ran, from the run's `cluster.worker` events (deltas, summed). */
function clusterTasks(home: string, pids: number[]): number[] {
  const r = spawnSync(
    "node",
    [sluiceJs, "events", "cluster-bench", "--kind", "cluster.worker", "--json", "--home", home],
    { cwd: work, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`sluice events failed:\n${r.stderr}`);
  const byPid = new Map<number, number>();
  for (const line of r.stdout.split("\n")) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as { pid: number; tasks: number };
    byPid.set(e.pid, (byPid.get(e.pid) ?? 0) + e.tasks);
  }
  return pids.map((p) => byPid.get(p) ?? 0);
}

// ---------------------------------------------------------------- rounds and figures

interface Nats {
  url: string;
  pid: number;
}

function writeInput(rows: number): string {
  const file = join(work, `input-${rows}.csv`);
  const lines = ["id,amount"];
  for (let i = 0; i < rows; i++) lines.push(`${i},${(i * 37) % 1000}`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const load = () => loadavg().map((l) => Number(l.toFixed(2)));

async function rounds(
  configs: Config[],
  rows: number,
  workUs: number,
  nats: Nats,
): Promise<Map<Config["key"], Measured[]>> {
  const input = writeInput(rows);
  const results = new Map<Config["key"], Measured[]>(configs.map((c) => [c.key, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...configs.slice(round % configs.length), ...configs.slice(0, round % configs.length)];
    const l = load();
    console.log(
      `round ${round + 1}/${ROUNDS} (${order.map((c) => c.key).join(" ")}): load average ${l.join(" ")}${l[0] > 1 ? "  (over 1: rerun on a quiet machine)" : ""}`,
    );
    for (const c of order) {
      const m = await runConfig(c, workUs, input, nats);
      console.log(
        `  (${c.key}) ${c.name}: ${m.wallS.toFixed(2)} s wall, ${m.cpuS.toFixed(2)} s CPU${m.tasks ? `, ${m.tasks} tasks (${m.tasksPerWorker.join(" + ")})` : ""}`,
      );
      results.get(c.key)?.push(m);
    }
  }
  // Outputs identical: every run's file equals the local one-worker run's.
  const ref = results.get("a")?.[0]?.sha;
  for (const [key, ms] of results)
    for (const m of ms)
      if (m.sha !== ref) {
        console.error(`\nOUTPUT DIFFERS: (${key}) wrote ${m.sha}, (a) local workers: 1 wrote ${ref}`);
        process.exitCode = 1;
        throw new Error(`output of (${key}) differs from the local run's`);
      }
  console.log(`outputs identical: sha256 ${ref}`);
  return results;
}

/** The ratio of two configurations' figures, round by round, then median, min and max. */
function ratio(
  results: Map<Config["key"], Measured[]>,
  num: Config["key"],
  den: Config["key"],
  f: (x: Measured, y: Measured) => number,
) {
  const xs = results.get(num) ?? [];
  const ys = results.get(den) ?? [];
  const rs = xs.map((x, i) => f(x, ys[i]));
  return { median: median(rs), min: Math.min(...rs), max: Math.max(...rs), n: rs.length };
}
const fmtRatio = (r: { median: number; min: number; max: number }) =>
  `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;

function summary(configs: Config[], results: Map<Config["key"], Measured[]>, rows: number) {
  console.log(
    "\n| configuration | wall s | records/s | CPU s (run + workers + nats) | peak RSS MB (run + Σ workers) | tasks |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  const out: Record<string, unknown> = {};
  for (const c of configs) {
    const ms = results.get(c.key) ?? [];
    const fig = {
      wall_s: median(ms.map((m) => m.wallS)),
      records_per_s: median(ms.map((m) => rows / m.wallS)),
      cpu_s: median(ms.map((m) => m.cpuS)),
      cpu_run_s: median(ms.map((m) => m.coordCpuS)),
      cpu_workers_s: median(ms.map((m) => m.workersCpuS)),
      cpu_workers_boot_s: median(ms.map((m) => m.workersBootCpuS)),
      cpu_nats_s: median(ms.map((m) => m.natsCpuS)),
      rss_run_mb: median(ms.map((m) => m.coordRssMB)),
      rss_workers_mb: median(ms.map((m) => m.workersRssMB)),
      tasks: median(ms.map((m) => m.tasks)),
    };
    out[c.key] = { name: c.name, ...fig, runs: ms.length };
    const cpu = c.remote
      ? `${fig.cpu_s.toFixed(2)} (${fig.cpu_run_s.toFixed(2)} + ${fig.cpu_workers_s.toFixed(2)} + ${fig.cpu_nats_s.toFixed(2)})`
      : fig.cpu_s.toFixed(2);
    const rss = c.remote
      ? `${(fig.rss_run_mb + fig.rss_workers_mb).toFixed(0)} (${fig.rss_run_mb.toFixed(0)} + ${fig.rss_workers_mb.toFixed(0)})`
      : fig.rss_run_mb.toFixed(0);
    console.log(
      `| (${c.key}) ${c.name} | ${fig.wall_s.toFixed(2)} | ${Math.round(fig.records_per_s).toLocaleString("en")} | ${cpu} | ${rss} | ${c.remote ? fig.tasks : ""} |`,
    );
  }
  return out;
}

// ---------------------------------------------------------------- main

const CONFIGS: Config[] = [
  { key: "a", name: "local, workers: 1", local: 1 },
  { key: "b", name: "cluster, 1 worker × concurrency 1", remote: 1 },
  { key: "c", name: "cluster, 2 workers × concurrency 1", remote: 2 },
  { key: "d", name: "local, workers: 2", local: 2 },
];
const loadStart = load();
console.log(
  `# cluster benchmark: node ${process.version}, ${cpus().length} cores, load average ${loadStart.join(" ")}${loadStart[0] > 1 ? "  (over 1: rerun on a quiet machine)" : ""}`,
);
const server = await startNats();
const nats: Nats = { url: server.url, pid: server.proc.pid ?? 0 };
const json: Record<string, unknown> = {
  bench: "cluster",
  node: process.version,
  cores: cpus().length,
  rounds: ROUNDS,
  load_start: loadStart,
};
try {
  console.log(
    `\n## CPU-bound: ${ROWS.toLocaleString("en")} records × ${WORK_US} µs of CPU, nats-server at ${server.url}\n`,
  );
  const cpu = await rounds(CONFIGS, ROWS, WORK_US, nats);
  const figures = summary(CONFIGS, cpu, ROWS);
  const thr = (x: Measured, y: Measured) => y.wallS / x.wallS; // throughput ratio x ÷ y
  const cOverB = ratio(cpu, "c", "b", thr);
  const cOver2A = ratio(cpu, "c", "a", (x, y) => thr(x, y) / 2);
  const bOverA = ratio(cpu, "b", "a", thr);
  const dOverA = ratio(cpu, "d", "a", thr);
  const bar = (ok: boolean) => (ok ? "meets the bar" : "BELOW the bar");
  console.log("\nthroughput ratios (round by round, median (min–max)):");
  console.log(
    `  (c) ÷ (b), 2 workers over 1:           ${fmtRatio(cOverB)}  bar ≥ 1.8: ${bar(cOverB.median >= 1.8)}`,
  );
  console.log(
    `  (c) ÷ 2·(a), 2 workers over 2 × local: ${fmtRatio(cOver2A)}  bar ≥ 0.8: ${bar(cOver2A.median >= 0.8)}`,
  );
  console.log(`  (b) ÷ (a), 1 worker over 1 local:      ${fmtRatio(bOverA)}`);
  console.log(`  (d) ÷ (a), local 2 threads over 1:     ${fmtRatio(dOverA)}`);
  json.cpu_bound = {
    rows: ROWS,
    work_us: WORK_US,
    configs: figures,
    ratios: {
      c_over_b: { ...cOverB, bar: 1.8 },
      c_over_2a: { ...cOver2A, bar: 0.8 },
      b_over_a: bOverA,
      d_over_a: dOverA,
    },
  };

  if (CHEAP_ROWS > 0) {
    console.log(
      `\n## per-task overhead: ${CHEAP_ROWS.toLocaleString("en")} records × 0 µs, (a) and (b), and (e): (b) at ${TASK_RECORDS} records a task\n`,
    );
    const cheapConfigs: Config[] = [
      ...CONFIGS.filter((c) => c.key === "a" || c.key === "b"),
      { key: "e", name: `cluster, 1 worker, batch: ${TASK_RECORDS}`, remote: 1, batch: TASK_RECORDS },
    ];
    const cheap = await rounds(cheapConfigs, CHEAP_ROWS, 0, nats);
    const cheapFigures = summary(cheapConfigs, cheap, CHEAP_ROWS);
    const tasks = median((cheap.get("b") ?? []).map((m) => m.tasks));
    const tasksE = median((cheap.get("e") ?? []).map((m) => m.tasks));
    const perRecordWall = ratio(cheap, "b", "a", (x, y) => ((x.wallS - y.wallS) * 1e6) / CHEAP_ROWS);
    const perTaskWall = ratio(cheap, "b", "a", (x, y) => ((x.wallS - y.wallS) * 1e6) / Math.max(1, x.tasks));
    const perTaskCpu = ratio(cheap, "b", "a", (x, y) => ((x.cpuS - y.cpuS) * 1e6) / Math.max(1, x.tasks));
    // (e) − (b): same records, same fixed costs, only the number of tasks differs.
    const extra = (x: Measured, y: Measured) => Math.max(1, x.tasks - y.tasks);
    const marginalWall = ratio(cheap, "e", "b", (x, y) => ((x.wallS - y.wallS) * 1e6) / extra(x, y));
    const marginalCpu = ratio(cheap, "e", "b", (x, y) => ((x.cpuS - y.cpuS) * 1e6) / extra(x, y));
    const marginalCoord = ratio(cheap, "e", "b", (x, y) => ((x.coordCpuS - y.coordCpuS) * 1e6) / extra(x, y));
    const us = (r: { median: number; min: number; max: number }) =>
      `${r.median.toFixed(0)} µs (${r.min.toFixed(0)}–${r.max.toFixed(0)})`;
    console.log(`
cluster overhead, (b) − (a), ${tasks} tasks of ~${Math.round(CHEAP_ROWS / tasks)} records:`);
    console.log(`  wall per record:               ${us(perRecordWall)}`);
    console.log(`  wall per task:                 ${us(perTaskWall)}`);
    console.log(`  CPU per task (all processes):  ${us(perTaskCpu)}`);
    console.log(
      "  (these include the fixed costs of a cluster run: NATS connect, job setup, the worker's pool start)",
    );
    console.log(`cost of one more task, (e) − (b) over ${tasksE} − ${tasks} tasks (fixed costs cancel):`);
    console.log(`  wall per task:                 ${us(marginalWall)}`);
    console.log(`  CPU per task (all processes):  ${us(marginalCpu)}`);
    console.log(`  CPU per task (sluice run):     ${us(marginalCoord)}`);
    const runCpuPerRecord = median((cheap.get("b") ?? []).map((m) => (m.coordCpuS * 1e6) / CHEAP_ROWS));
    console.log(
      `sluice run's CPU per record in (b), start-up included (an upper bound): ${runCpuPerRecord.toFixed(1)} µs`,
    );
    json.overhead = {
      rows: CHEAP_ROWS,
      tasks,
      tasks_fixed_batch: tasksE,
      task_records: TASK_RECORDS,
      configs: cheapFigures,
      wall_us_per_record: perRecordWall,
      wall_us_per_task: perTaskWall,
      cpu_us_per_task: perTaskCpu,
      marginal_wall_us_per_task: marginalWall,
      marginal_cpu_us_per_task: marginalCpu,
      marginal_run_cpu_us_per_task: marginalCoord,
      run_cpu_us_per_record_b: runCpuPerRecord,
    };
  }
  json.nats_peak_rss_mb = Number(peakRssMB(nats.pid).toFixed(1));
} finally {
  server.proc.kill("SIGKILL");
  await new Promise((r) => (server.proc.exitCode !== null ? r(undefined) : server.proc.once("exit", r)));
  rmSync(server.store, { recursive: true, force: true });
}
const loadEnd = load();
json.load_end = loadEnd;
console.log(
  `\nload average at start ${loadStart.join(" ")}, at end ${loadEnd.join(" ")}${Math.max(loadStart[0], loadEnd[0]) > 1 ? "  (over 1: rerun on a quiet machine)" : ""}`,
);
console.log(JSON.stringify(json));
rmSync(work, { recursive: true, force: true });
