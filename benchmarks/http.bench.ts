/**
 * @module The HTTP API under load while a CSV pipeline runs, in one command:
 *
 *   node --import tsx benchmarks/http.bench.ts [--rows N] [--rounds N] [--rate R] [--seconds S]
 *
 * Each round runs the same pipeline (CSV → map → NDJSON, metrics store
 * attached, the API listening on loopback as `sluice run --serve` does) twice:
 * once without load, once while autocannon (a child process,
 * `http-load.mjs`) asks the
 * metrics-series endpoint for that run's per-stage rows/s at `--rate`
 * requests/s (default 500). Rounds alternate the order. The load starts
 * before the pipeline (autocannon's own start-up is not charged to the run)
 * and stops when it ends, so its latencies are those of requests made while
 * the pipeline runs. Reports, as medians over rounds, the endpoint's p50/p99
 * and achieved rate and the pipeline's loaded ÷ unloaded throughput, with
 * the CPU time of each run next to its wall time and the load average; then
 * the same load for `--seconds` with no pipeline running. Targets: p99 ≤ 20
 * ms at the rate asked, throughput drop ≤ 5%.
 *
 * Latency is reported two ways: per request (each response's time), and as
 * autocannon reports it at a fixed rate, with its coordinated-omission
 * correction (which assumes a 1 ms interval per connection where the real
 * one is 20 ms, so it adds many synthetic slow samples: see `http-load.mjs`).
 *
 * The server runs as `sluice run --serve` runs it: in its own thread, fed by
 * the run's bus, asking the main thread for store queries (see
 * `src/http/thread.ts`).
 */
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { z } from "zod";
import { EventBus } from "../src/events/bus.ts";
import { servePlugin } from "../src/http/cli.ts";
import { map } from "../src/operators/index.ts";
import { pipeline } from "../src/pipeline/pipeline.ts";
import { newRunId, runPipeline } from "../src/pipeline/run.ts";
import { ndjson } from "../src/sinks/index.ts";
import { csv } from "../src/sources/index.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const rows = arg("rows", 3_000_000);
const rounds = arg("rounds", 3);
const rate = arg("rate", 500);
const seconds = arg("seconds", 5);

const root = resolve("benchmarks/data/http");
rmSync(root, { recursive: true, force: true });
mkdirSync(root, { recursive: true });
const file = join(root, "orders.csv");
{
  const lines = ["id,user,category,amount"];
  for (let i = 1; i <= rows; i++) lines.push(`${i},u${i % 997},c${i % 13},${(i % 10_000) / 100}`);
  writeFileSync(file, `${lines.join("\n")}\n`);
}
const Row = z.object({
  id: z.coerce.number(),
  user: z.string(),
  category: z.string(),
  amount: z.coerce.number(),
});
const p = pipeline("http-bench", { checkpoint: false })
  .from(csv(file, { schema: Row }))
  .via(
    map((r: z.infer<typeof Row>) => ({ id: r.id, cents: Math.round(r.amount * 100), category: r.category })),
  )
  .to(ndjson(join(root, "out.ndjson")));

interface Load {
  /** autocannon's percentiles (with its coordinated-omission correction, see `http-load.mjs`). */
  p50: number;
  p99: number;
  /** Per-request response times. */
  rawP50: number;
  rawP99: number;
  rps: number;
  non2xx: number;
  errors: number;
  /** CPU ms the load generator itself used. */
  clientCpuMs: number;
}

/** Load at `rate` req/s against `url` (`http-load.mjs`, a child process) until `stop()` or `seconds`. */
function autocannon(url: string, seconds: number): { stop(): void; done: Promise<Load> } {
  const child = spawn(
    process.execPath,
    [resolve("benchmarks/http-load.mjs"), url, String(rate), String(seconds)],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  return {
    stop: () => child.stdin.end(),
    done: new Promise((res, rej) =>
      child.on("exit", (code) => {
        if (code !== 0 || !out.trim()) return rej(new Error(`the load generator exited ${code}: ${out}`));
        const r = JSON.parse(out);
        res({
          p50: r.p50,
          p99: r.p99,
          rawP50: r.rawP50,
          rawP99: r.rawP99,
          rps: r.requests / r.seconds,
          non2xx: r.non2xx,
          errors: r.errors,
          clientCpuMs: r.cpuMs,
        });
      }),
    ),
  };
}

/** Requests the series route has answered so far (the server's own Prometheus counter). */
async function seriesServed(): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^sluice_http_requests_total\{[^}]*route="\/api\/metrics"[^}]*\} (\d+)/gm))
    n += Number(m[1]);
  return n;
}

const home = join(root, "home");
const bus = new EventBus();
// The server as `sluice run --serve` starts it: its own thread, the store caught up from the journals.
let base = "";
const options = {
  bus,
  home,
  plugins: [
    servePlugin({ port: 0, quiet: true, keepServing: true, onListening: (url: string) => (base = url) }),
  ],
};

interface Once {
  runId: string;
  rowsPerS: number;
  wallMs: number;
  /** CPU ms of this process (pipeline, server thread, DuckDB) during the run. */
  cpuMs: number;
  load?: Load;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long the load took to become steady last time; an unloaded run waits as long, so both start as settled. */
let lastWarmMs = 1000;

async function once(loaded: boolean): Promise<Once> {
  const runId = newRunId();
  let load: ReturnType<typeof autocannon> | undefined;
  // The previous run's tail (the store's last flush, the output file) settles before either kind of run.
  await sleep(500);
  if (loaded) {
    // The run's series, as a dashboard polls it while the run goes; the load is steady before the run starts.
    const w0 = performance.now();
    load = autocannon(`${base}/api/metrics?run=${runId}&metric=rows_per_s&bucket=1s`, 600);
    const before = await seriesServed();
    while ((await seriesServed()) - before < rate / 2) await sleep(50);
    lastWarmMs = performance.now() - w0;
  } else await sleep(lastWarmMs);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const s = await runPipeline(p, { ...options, runId, sampleResources: false });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  load?.stop();
  if (s.error) throw s.error;
  return {
    runId,
    rowsPerS: s.rowsPerSecond,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    load: load ? await load.done : undefined,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const la = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" / ");
const loadAtStart = la();
console.log(
  `${rows.toLocaleString("en")} rows, ${rounds} rounds, ${rate} req/s; load average ${loadAtStart}`,
);
const warm = await once(false); // warm-up
// The same load with no pipeline running: what the endpoint costs on its own (and the server's JIT warmed, as
// in a server that has been up for a while).
const idle = await autocannon(`${base}/api/metrics?run=${warm.runId}&metric=rows_per_s&bucket=1s`, seconds)
  .done;
const ratios: number[] = [];
const loads: Load[] = [];
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? [false, true] : [true, false];
  const res: Record<string, Once> = {};
  for (const loaded of order) res[String(loaded)] = await once(loaded);
  const [u, l] = [res.false, res.true];
  const ratio = l.rowsPerS / u.rowsPerS;
  ratios.push(ratio);
  loads.push(l.load!);
  const a = l.load!;
  console.log(
    `round ${r + 1}: unloaded ${Math.round(u.rowsPerS)} rows/s (wall ${Math.round(u.wallMs)} ms, CPU ${Math.round(u.cpuMs)} ms), ` +
      `loaded ${Math.round(l.rowsPerS)} rows/s (wall ${Math.round(l.wallMs)} ms, CPU ${Math.round(l.cpuMs)} ms + client ${Math.round(a.clientCpuMs)} ms), ` +
      `ratio ${ratio.toFixed(3)}; series ${a.rps.toFixed(0)} req/s, p50/p99 ${a.rawP50}/${a.rawP99} ms per request, ` +
      `${a.p50}/${a.p99} ms as autocannon corrects, non-2xx ${a.non2xx}, errors ${a.errors}`,
  );
}
const p50 = median(loads.map((l) => l.rawP50));
const p99 = median(loads.map((l) => l.rawP99));
const acP50 = median(loads.map((l) => l.p50));
const acP99 = median(loads.map((l) => l.p99));
const achieved = median(loads.map((l) => l.rps));
const ratio = median(ratios);
const failed = loads.reduce((n, l) => n + l.non2xx + l.errors, 0);
const mark = (ok: boolean) => (ok ? "met" : "NOT met");
const rateMet = achieved >= rate * 0.95 && failed === 0;
console.log(
  `\nwhile the pipeline runs (medians of ${rounds} rounds):\n` +
    `  series endpoint: ${achieved.toFixed(0)} req/s achieved of ${rate} asked, ${failed} non-2xx/errors\n` +
    `    per request: p50 ${p50} ms, p99 ${p99} ms — p99 ≤ 20 ms at ${rate} req/s: ${mark(rateMet && p99 <= 20)}\n` +
    `    as autocannon corrects for coordinated omission: p50 ${acP50} ms, p99 ${acP99} ms — ${mark(rateMet && acP99 <= 20)}\n` +
    `  pipeline throughput loaded ÷ unloaded: ${ratio.toFixed(3)} (drop ${((1 - ratio) * 100).toFixed(1)}%)` +
    ` — drop ≤ 5%: ${mark(ratio >= 0.95)}`,
);
console.log(
  `  no pipeline running (${seconds} s, before the rounds): ${idle.rps.toFixed(0)} req/s, ` +
    `p50/p99 ${idle.rawP50}/${idle.rawP99} ms per request, ${idle.p50}/${idle.p99} ms as autocannon corrects\n` +
    `load average ${loadAtStart} at start, ${la()} at end`,
);
process.exit(0);
