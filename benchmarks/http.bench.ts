/**
 * @module The HTTP API under load while a CSV pipeline runs, in one command:
 *
 *   node --import tsx benchmarks/http.bench.ts [--rows N] [--rounds N] [--rate R] [--seconds S]
 *
 * Each round runs the same pipeline (CSV → map → NDJSON, metrics store
 * attached, the API listening on loopback as `sluice run --serve` does) twice:
 * once without load, once while autocannon (a child process) asks the
 * metrics-series endpoint for that run's per-stage rows/s at `--rate`
 * requests/s (default 500). Rounds alternate the order. Reports the series
 * endpoint's p50/p99 latency and achieved rate, and the pipeline's loaded vs
 * unloaded throughput ratio (median over rounds), then the same load with no
 * pipeline running. Targets: p99 ≤ 20 ms, throughput drop ≤ 5%.
 *
 * The server runs as `sluice run --serve` runs it: in its own thread, fed by
 * the run's bus, asking the main thread for store queries (see
 * `src/http/thread.ts`).
 */
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { z } from "zod";
import { EventBus } from "../src/events/bus.ts";
import { serveHook } from "../src/http/cli.ts";
import { map } from "../src/operators/index.ts";
import { pipeline } from "../src/pipeline/pipeline.ts";
import { newRunId, runPipeline } from "../src/pipeline/run.ts";
import { ndjson } from "../src/sinks/index.ts";
import { csv } from "../src/sources/index.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const rows = arg("rows", 1_500_000);
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
  p50: number;
  p99: number;
  rps: number;
  non2xx: number;
  errors: number;
}

function autocannon(url: string): { done: Promise<Load> } {
  const bin = resolve("node_modules/autocannon/autocannon.js");
  const child = spawn(
    process.execPath,
    [bin, "-R", String(rate), "-c", "10", "-d", String(seconds), "-j", url],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  return {
    done: new Promise((res, rej) =>
      child.on("exit", (code) => {
        if (code !== 0) return rej(new Error(`autocannon exited ${code}`));
        const r = JSON.parse(out);
        res({
          p50: r.latency.p50,
          p99: r.latency.p99,
          rps: r.requests.average,
          non2xx: r.non2xx,
          errors: r.errors,
        });
      }),
    ),
  };
}

const home = join(root, "home");
const bus = new EventBus();
// The server as `sluice run --serve` starts it: its own thread, the store attached to the bus.
let base = "";
const options = await serveHook({ port: 0, quiet: true, onListening: (url) => (base = url) })(p, bus, {
  bus,
  home,
});

async function once(loaded: boolean): Promise<{ rowsPerS: number; load?: Load }> {
  const runId = newRunId();
  let load: { done: Promise<Load> } | undefined;
  if (loaded) {
    const url = `${base}/api/metrics?run=${runId}&metric=rows_per_s&bucket=1s`;
    load = autocannon(url);
  }
  const s = await runPipeline(p, { ...options, runId, sampleResources: false });
  if (s.error) throw s.error;
  return { rowsPerS: s.rowsPerSecond, load: load ? await load.done : undefined };
}

await once(false); // warm-up
const ratios: number[] = [];
const loads: Load[] = [];
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? [false, true] : [true, false];
  const res: Record<string, { rowsPerS: number; load?: Load }> = {};
  for (const loaded of order) res[String(loaded)] = await once(loaded);
  const ratio = res.true.rowsPerS / res.false.rowsPerS;
  ratios.push(ratio);
  loads.push(res.true.load!);
  console.log(
    `round ${r + 1}: unloaded ${Math.round(res.false.rowsPerS)} rows/s, loaded ${Math.round(res.true.rowsPerS)} rows/s ` +
      `(ratio ${ratio.toFixed(3)}); series endpoint ${res.true.load!.rps.toFixed(0)} req/s, ` +
      `p50 ${res.true.load!.p50} ms, p99 ${res.true.load!.p99} ms, non-2xx ${res.true.load!.non2xx}, errors ${res.true.load!.errors}`,
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p99 = median(loads.map((l) => l.p99));
const ratio = median(ratios);
console.log(
  `\nseries endpoint at ${rate} req/s: p99 ${p99} ms (target ≤ 20) · pipeline throughput loaded/unloaded ${ratio.toFixed(3)} ` +
    `(drop ${((1 - ratio) * 100).toFixed(1)}%, target ≤ 5%)`,
);
// The same load with no pipeline running: what the endpoint costs on its own.
const lastRun = newRunId();
await runPipeline(p, { ...options, runId: lastRun, sampleResources: false });
const idle = await autocannon(`${base}/api/metrics?run=${lastRun}&metric=rows_per_s&bucket=1s`).done;
console.log(
  `series endpoint with no pipeline running: ${idle.rps.toFixed(0)} req/s, p50 ${idle.p50} ms, p99 ${idle.p99} ms`,
);
process.exit(0);
