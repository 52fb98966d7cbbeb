/**
 * @module What the journal costs and how fast a run comes back, in one command:
 *
 *   node --import tsx benchmarks/journal.bench.ts [--rows 2000000] [--runs 3] [--sizes 200MB,2GB]
 *                                                 [--skip overhead,append,resume]
 *   (npm run bench:journal)
 *
 * 1. Checkpoint overhead. The CSV pipeline (orders from `ensureOrdersCsv`, no
 *    schema) → filter → map → NDJSON, run as it runs without a journal
 *    (`runPipeline`, `checkpoint: false`) and as `sluice run` runs it
 *    (`runJournaled`, a checkpoint every second: barrier, sink fsync, journal
 *    append + fsync). Each run is its own child process; runs alternate and
 *    medians are kept. Besides wall time (noisy on a shared machine) each run
 *    reports its CPU time and how long it stood still at checkpoints (from
 *    the sink's commit to the journal's fsync), the direct measure of what
 *    checkpointing takes from throughput. Target: ≤ 3%.
 * 2. Journal append throughput per fsync policy: `journal-append.bench.ts`,
 *    run as it is, with its rates as ratios to the `checkpoint` policy.
 * 3. Resume after kill -9. For each input size the pipeline is started with
 *    the CLI, killed with SIGKILL once its last durable checkpoint is past
 *    half the file, then `sluice run` again is timed from process spawn to
 *    the first record the resumed run processes (a probe stage writes the
 *    time and the record's id), three times. A fresh run's spawn-to-first-
 *    record time is the baseline (process start, module loading): resuming
 *    must add little to it and nothing that grows with the input. Target: ≤ 1 s.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { EventBus, pipeline, runPipeline } from "../src/index.ts";
import { runJournaled } from "../src/journal/run-journal.ts";
import { listRuns } from "../src/journal/runs.ts";
import { filter, map } from "../src/operators/index.ts";
import type { Sink } from "../src/pipeline/types.ts";
import { ndjson } from "../src/sinks/index.ts";
import { csv } from "../src/sources/index.ts";
import { ensureOrdersCsv } from "../src/testing/generate.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = join(here, "..");
const dataDir = join(here, "data");
const work = join(dataDir, "journal-bench");
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const ROWS = Number(arg("rows", "2000000"));
const RUNS = Number(arg("runs", "3"));
const SIZES = arg("sizes", "200MB,2GB").split(",").filter(Boolean);
const SKIP = new Set(arg("skip", "").split(","));
const BYTES_PER_ROW = 53; // what ensureOrdersCsv writes on average

type Row = Record<string, string>;

// ---- child: one timed run of the overhead pipeline -------------------------------------------
if (process.argv[2] === "--child") {
  const [, , , variant, file, out, home] = process.argv;
  // The time the run stands still at checkpoints: from the sink's commit to the
  // end of onCheckpoint (the journal's append + fsync come in between).
  const commits: number[] = [];
  let stallMs = 0;
  const inner = ndjson<unknown>(out);
  const sink: Sink<unknown> = {
    ...inner,
    async open(ctx) {
      const w = await inner.open(ctx);
      return {
        target: w.target,
        write: (c) => w.write(c),
        close: () => w.close(),
        abort: w.abort,
        commit(id) {
          commits.push(performance.now());
          return w.commit(id);
        },
      };
    },
  };
  const p = pipeline("bench-overhead", { checkpoint: variant === "journal" ? { every: "1s" } : false })
    .from(csv(file))
    .via(
      filter((o: Row) => o.category !== "test"),
      map((o: Row) => ({
        id: Number(o.id),
        user: o.user,
        category: o.category,
        cents: Math.round(Number(o.amount) * 100),
      })),
    )
    .to(sink);
  const onCheckpoint = async () => {
    stallMs += performance.now() - (commits.shift() ?? performance.now());
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let fixedMs = 0;
  let s: Awaited<ReturnType<typeof runPipeline>>;
  if (variant === "journal") {
    // The fixed part (lock, journal open and close): from the start to run.started, and after run.ended.
    let startedAt = 0;
    let endedAt = 0;
    const bus = new EventBus();
    bus.subscribe((e) => {
      if (e.kind === "run.started") startedAt = performance.now();
      else if (e.kind === "run.ended") endedAt = performance.now();
    });
    s = await runJournaled(p, { home, resume: false, onCheckpoint, bus });
    fixedMs += startedAt - t0 + (performance.now() - endedAt);
  } else s = await runPipeline(p, { home, onCheckpoint });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (s.status !== "completed") throw new Error(`${variant}: ${s.error?.message}`);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(
    `${JSON.stringify({ ms, cpuMs, stallMs, fixedMs, rows: s.rowsIn, checkpoints: s.checkpoints })}\n`,
  );
  process.exit(0);
}

const lines: string[] = [];
const say = (s = "") => {
  console.log(s);
  lines.push(s);
};
const ratios: string[] = [];

say(`journal benchmarks — node ${process.version}, load average ${loadavg()[0].toFixed(1)} on this machine`);
mkdirSync(work, { recursive: true });

// ---- 1. checkpoint overhead -------------------------------------------------------------------
if (!SKIP.has("overhead")) {
  const file = join(dataDir, `orders-${ROWS}.csv`);
  await ensureOrdersCsv(file, { rows: ROWS });
  type Result = {
    ms: number;
    cpuMs: number;
    stallMs: number;
    fixedMs: number;
    rows: number;
    checkpoints: number;
  };
  const all: Record<string, Result[]> = { plain: [], journal: [] };
  for (let r = 0; r < RUNS; r++) {
    for (const variant of r % 2 === 0 ? ["plain", "journal"] : ["journal", "plain"]) {
      const home = join(work, `home-${variant}`);
      rmSync(home, { recursive: true, force: true });
      const out = join(work, `overhead-${variant}.ndjson`);
      const c = spawnSync(
        process.execPath,
        ["--import", "tsx", fileURLToPath(import.meta.url), "--child", variant, file, out, home],
        { cwd: repo, encoding: "utf8" },
      );
      if (c.status !== 0) throw new Error(`overhead child ${variant} failed:\n${c.stderr}`);
      all[variant].push(JSON.parse(c.stdout.trim().split("\n").at(-1) ?? "{}"));
      rmSync(out, { force: true });
    }
  }
  const med = (v: string, k: keyof Result) => median(all[v].map((x) => x[k]));
  const mb = (ROWS * BYTES_PER_ROW) / 1e6;
  say(
    `\n1. checkpoint overhead: CSV → filter → map → NDJSON, ${ROWS.toLocaleString("en-US")} rows (~${mb.toFixed(0)} MB), median of ${RUNS}`,
  );
  say("   variant                           wall      rows/s    CPU   stalled at checkpoints");
  for (const [v, label] of [
    ["plain", "checkpoint: false, no journal"],
    ["journal", "checkpoint every 1 s + journal"],
  ] as const) {
    say(
      `   ${label.padEnd(31)} ${(med(v, "ms") / 1000).toFixed(2).padStart(6)} s ${((ROWS / med(v, "ms")) * 1000).toFixed(0).padStart(10)} ${(med(v, "cpuMs") / 1000).toFixed(2).padStart(6)} s   ${med(v, "stallMs").toFixed(0)} ms over ${med(v, "checkpoints")} checkpoint(s)`,
    );
  }
  // What the journal and the extra checkpoints cost: the extra time the run
  // stood still at barriers (waiting for sink and journal fsyncs) and the extra
  // CPU, as shares of the plain run. Both hold up on a busy machine, where the
  // wall-clock ratio (shown too) is mostly noise.
  const stallCost = ((med("journal", "stallMs") - med("plain", "stallMs")) / med("plain", "ms")) * 100;
  const cpuCost = (med("journal", "cpuMs") / med("plain", "cpuMs") - 1) * 100;
  const wallCost = (med("journal", "ms") / med("plain", "ms") - 1) * 100;
  const fixedCost = (med("journal", "fixedMs") / med("plain", "ms")) * 100;
  say(`   journal open + lock + close: ${med("journal", "fixedMs").toFixed(0)} ms per run`);
  const line =
    `checkpoints every 1 s + journal: stalled ${stallCost.toFixed(1)}% of the run ` +
    `(+${fixedCost.toFixed(1)}% once, opening and closing the journal), CPU ${cpuCost >= 0 ? "+" : ""}${cpuCost.toFixed(1)}%, ` +
    `wall ${wallCost >= 0 ? "+" : ""}${wallCost.toFixed(1)}% (target ≤ 3%)`;
  say(`   ${line}`);
  ratios.push(line);
}

// ---- 2. journal append per fsync policy -------------------------------------------------------
if (!SKIP.has("append")) {
  say("\n2. journal append throughput per fsync policy (benchmarks/journal-append.bench.ts)");
  const c = spawnSync(process.execPath, ["--import", "tsx", join(here, "journal-append.bench.ts")], {
    cwd: repo,
    encoding: "utf8",
  });
  if (c.status !== 0) throw new Error(`journal-append failed:\n${c.stderr}`);
  for (const l of c.stdout.trim().split("\n")) say(`   ${l}`);
  const rate = (name: string) =>
    Number(new RegExp(`^${name.replace(/[()/]/g, "\\$&")}\\s+\\d+\\s+(\\d+)`, "m").exec(c.stdout)?.[1]);
  const base = rate("checkpoint (sync/1000)");
  const parts = ["always, awaited", "always, burst", "interval (100ms)"].map(
    (n) => `${n} ${(rate(n) / base).toFixed(3)}x`,
  );
  const line = `append rate vs checkpoint policy: ${parts.join(", ")}`;
  say(`   ${line}`);
  ratios.push(line);
}

// ---- 3. resume after kill -9 ------------------------------------------------------------------
if (!SKIP.has("resume")) {
  const cli = join(repo, "bin", "sluice.js");
  const pipelineFile = join(here, "peers", "resume-pipeline.ts");
  if (!existsSync(join(repo, "dist", "bundle", "cli.js")))
    throw new Error("run `npm run build` first (the CLI runs from dist/)");
  say("\n3. resume after kill -9 (CLI on node; spawn → first record processed)");
  const results: Array<{
    size: string;
    fresh: number;
    freshAfterLoad: number;
    resume: number[];
    resumeAfterLoad: number[];
    id: number;
    rows: number;
  }> = [];
  for (const size of SIZES) {
    const bytes = parseSize(size);
    const rows = Math.ceil(bytes / BYTES_PER_ROW);
    const file = join(dataDir, `orders-${rows}.csv`);
    if (!existsSync(file)) say(`   generating ${file} (${size})…`);
    await ensureOrdersCsv(file, { rows });
    const cwd = join(work, `resume-${size}`);
    rmSync(cwd, { recursive: true, force: true });
    mkdirSync(cwd, { recursive: true });
    const home = join(cwd, ".s");
    const mark = join(cwd, "mark.json");
    const env = { BENCH_CSV: file, BENCH_OUT: join(cwd, "out.ndjson"), BENCH_MARK: mark };
    const startCli = (extra: string[]) => {
      rmSync(mark, { force: true });
      const at = Date.now();
      const child = spawn(process.execPath, [cli, "run", pipelineFile, "--home", home, ...extra], {
        cwd,
        env: { ...process.env, ...env },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr?.on("data", (d) => {
        stderr += d;
      });
      return { at, child, stderr: () => stderr };
    };
    const firstRecord = async (child: ChildProcess, at: number) => {
      for (;;) {
        if (existsSync(mark)) {
          try {
            const m = JSON.parse(readFileSync(mark, "utf8")) as {
              t: number;
              id: number;
              sinceStart: number;
              loaded: number;
            };
            return { ms: m.t - at, id: m.id, afterLoad: Math.round(m.sinceStart - m.loaded) };
          } catch {
            // Being written.
          }
        }
        if (child.exitCode !== null)
          throw new Error(`the run exited (${child.exitCode}) before processing a record`);
        await sleep(5);
      }
    };
    const kill = async (child: ChildProcess) => {
      child.kill("SIGKILL");
      if (child.exitCode === null && child.signalCode === null)
        await new Promise((r) => child.once("exit", r));
    };

    const fresh = startCli(["--fresh"]);
    const f = await firstRecord(fresh.child, fresh.at);
    // Let it get past half the file, then kill -9.
    for (;;) {
      const run = (await listRuns(home, "bench-resume")).at(-1);
      const at = (run?.checkpoint?.sourceOffset as { byte?: number } | undefined)?.byte ?? 0;
      if (at >= bytes / 2) break;
      if (fresh.child.exitCode !== null) throw new Error("the fresh run finished before it could be killed");
      await sleep(200);
    }
    await kill(fresh.child);
    const killed = (await listRuns(home, "bench-resume")).at(-1);
    if (killed?.status !== "crashed") {
      throw new Error(`the ${size} run ended (${killed?.status}) before it was killed: give a larger size`);
    }
    const times: number[] = [];
    const afterLoad: number[] = [];
    let id = 0;
    for (let k = 0; k < 3; k++) {
      const r = startCli([]);
      const got = await firstRecord(r.child, r.at);
      if (!r.stderr().includes("resuming run"))
        throw new Error(`attempt ${k + 1} did not resume:\n${r.stderr()}`);
      times.push(got.ms);
      afterLoad.push(got.afterLoad);
      id = got.id;
      await kill(r.child);
    }
    results.push({
      size,
      fresh: f.ms,
      freshAfterLoad: f.afterLoad,
      resume: times,
      resumeAfterLoad: afterLoad,
      id,
      rows,
    });
    rmSync(cwd, { recursive: true, force: true });
  }
  say("   spawn → first record processed; in brackets: from the pipeline file loaded (CLI modules excluded)");
  say("   input     fresh run            resumed run, 3 times (median)              resumed at record");
  for (const r of results) {
    say(
      `   ${r.size.padEnd(8)}  ${`${r.fresh} ms [${r.freshAfterLoad}]`.padEnd(19)}  ${`${r.resume.map((t, i) => `${t} [${r.resumeAfterLoad[i]}]`).join(" / ")} (${median(r.resume)})`.padEnd(41)}  ${r.id.toLocaleString("en-US")} of ${r.rows.toLocaleString("en-US")}`,
    );
  }
  const meds = results.map(
    (r) =>
      `${r.size} ${median(r.resume)} ms, ${median(r.resumeAfterLoad)} ms after load (fresh: ${r.fresh} ms, ${r.freshAfterLoad} ms)`,
  );
  const growth =
    results.length > 1
      ? `; ${results.at(-1)?.size} / ${results[0].size} = ${(median(results.at(-1)!.resume) / median(results[0].resume)).toFixed(2)}x`
      : "";
  const line = `resume → first new record: ${meds.join("; ")}${growth} (target ≤ 1 s, flat in input size)`;
  say(`   ${line}`);
  ratios.push(line);
}

rmSync(work, { recursive: true, force: true }); // generated inputs stay in benchmarks/data for the next run

say("\nsummary");
for (const r of ratios) say(`  - ${r}`);

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(MB|GB|MiB|GiB)$/i.exec(s);
  if (!m) throw new Error(`--sizes: cannot read "${s}" (e.g. 200MB, 2GB)`);
  const unit = { mb: 1e6, gb: 1e9, mib: 2 ** 20, gib: 2 ** 30 }[m[2].toLowerCase() as "mb"];
  return Number(m[1]) * unit;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
