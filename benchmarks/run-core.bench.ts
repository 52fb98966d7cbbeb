/**
 * @module What a user's `sluice run` costs, whole process, against its peers, in one command:
 *
 *   node --import tsx benchmarks/run-core.bench.ts [--rows 2000000] [--rounds 3]
 *        [--baseline REV] [--runtimes node,bun,deno] [--skip csv,ten,papaparse,…]
 *   (npm run bench:run-core)
 *
 * Part 1, the orders CSV to records (`peers/run-core/pipeline.ts`, no schema, a sink
 * that counts): `sluice run FILE --fresh --quiet` with defaults and with
 * `SLUICE_METRICS=off`, beside papaparse (`node peers/run-core/papaparse.mjs`) and
 * DuckDB `read_csv` on one thread reading every column (`node peers/run-core/duckdb.mjs`),
 * two floors — sluice's CSV parser alone in a loop (`peers/run-core/parser-only.mjs`) and
 * `node -e 0` — and — with `--baseline REV` — the same `sluice run` of sluice at that revision (built
 * in a worktree under benchmarks/data/). Part 2, a 10-row pipeline (`peers/run-core/ten.ts`):
 * defaults and metrics off on each runtime, and the baseline on node.
 *
 * Every command is timed by GNU time: wall, CPU (user+sys) and peak RSS of the whole
 * process. Rounds alternate the order of the commands; medians and ratios are printed with
 * the load average before each round (rerun when it was over 1). Outputs are checked to
 * agree (rows and a checksum of one field).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ensureOrdersCsv } from "../src/testing/generate.ts";
import { baselineCheckout } from "./lib/baseline.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = join(here, "..");
const peers = join(here, "peers", "run-core");
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const ROWS = Number(arg("rows", "2000000"));
const ROUNDS = Number(arg("rounds", "3"));
const BASELINE = arg("baseline", "");
const RUNTIMES = arg("runtimes", "node,bun,deno").split(",").filter(Boolean);
const SKIP = new Set(arg("skip", "").split(","));
const TIME = "/usr/bin/time";
if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed: apt-get install -y time`);
if (!existsSync(join(repo, "dist", "bundle", "cli.js"))) throw new Error("run `npm run build` first");

const data = join(here, "data");
const work = existsSync("/dev/shm") ? "/dev/shm/sluice-run-core" : join(data, "run-core");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const csvFile = join(data, `orders-clean-${ROWS}.csv`);
if (!SKIP.has("csv")) await ensureOrdersCsv(csvFile, { rows: ROWS, badEvery: 0 });

interface Measured {
  wallS: number;
  cpuS: number;
  rssMB: number;
  out: string;
}

function timed(cmd: string[], env: Record<string, string> = {}, cwd = work): Measured {
  const r = spawnSync(TIME, ["-f", "%e %U %S %M", ...cmd], {
    cwd,
    env: { ...process.env, ...env, NO_COLOR: "1" },
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  const last = r.stderr.trim().split("\n").pop() ?? "";
  const [wall, user, sys, rss] = last.split(" ").map(Number);
  if (r.status !== 0 || !Number.isFinite(wall)) throw new Error(`${cmd.join(" ")} failed:\n${r.stderr}`);
  return { wallS: wall, cpuS: user + sys, rssMB: rss / 1024, out: r.stdout.trim() };
}

const bin = (runtime: string) =>
  runtime === "node"
    ? ["node"]
    : runtime === "bun"
      ? [join(repo, "node_modules/.bin/bun")]
      : [join(repo, "node_modules/.bin/deno"), "run", "-A"];

interface Variant {
  readonly name: string;
  readonly run: () => Measured;
}

function sluiceRun(
  root: string,
  file: string,
  runtime = "node",
  env: Record<string, string> = {},
): () => Measured {
  const home = join(work, `home-${Math.random().toString(36).slice(2)}`);
  return () =>
    timed(
      [...bin(runtime), join(root, "bin", "sluice.js"), "run", file, "--fresh", "--quiet", "--home", home],
      {
        RUN_CORE_CSV: csvFile,
        ...env,
      },
    );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function compare(title: string, variants: Variant[], reference: string, checkOut: boolean): void {
  console.log(`\n## ${title}\n`);
  const results = new Map<string, Measured[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    const load = loadavg()[0];
    console.log(
      `round ${round + 1}/${ROUNDS}: load average ${load.toFixed(2)}${load > 1 ? "  (over 1: rerun)" : ""}`,
    );
    for (const v of order) results.get(v.name)?.push(v.run());
  }
  const outs = new Set(variants.map((v) => results.get(v.name)?.[0].out).filter(Boolean));
  if (checkOut && outs.size > 1) console.log(`OUTPUTS DIFFER: ${[...outs].join(" | ")}`);
  const ref = results.get(reference) ?? [];
  const refWall = median(ref.map((m) => m.wallS));
  const refCpu = median(ref.map((m) => m.cpuS));
  const refRss = median(ref.map((m) => m.rssMB));
  console.log(
    `\n| ${title} | wall s | CPU s | peak RSS MB | wall ÷ ${reference} | CPU ÷ ${reference} | RSS ÷ ${reference} |`,
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const v of variants) {
    const ms = results.get(v.name) ?? [];
    const w = median(ms.map((m) => m.wallS));
    const c = median(ms.map((m) => m.cpuS));
    const r = median(ms.map((m) => m.rssMB));
    console.log(
      `| ${v.name} | ${w.toFixed(2)} | ${c.toFixed(2)} | ${r.toFixed(0)} | ${(w / refWall).toFixed(2)} | ${(c / refCpu).toFixed(2)} | ${(r / refRss).toFixed(2)} |`,
    );
  }
}

const base = BASELINE ? baselineCheckout(repo, data, BASELINE, peers, "run-core") : undefined;
console.log(
  `# run-core benchmark: ${ROWS.toLocaleString("en")} rows, ${ROUNDS} rounds, node ${process.version}`,
);

if (!SKIP.has("csv")) {
  const pipelineFile = join(peers, "pipeline.ts");
  const variants: Variant[] = [
    { name: "sluice (defaults)", run: sluiceRun(repo, pipelineFile) },
    {
      name: "sluice, SLUICE_METRICS=off",
      run: sluiceRun(repo, pipelineFile, "node", { SLUICE_METRICS: "off" }),
    },
    { name: "papaparse", run: () => timed(["node", join(peers, "papaparse.mjs"), csvFile]) },
    { name: "DuckDB read_csv, 1 thread", run: () => timed(["node", join(peers, "duckdb.mjs"), csvFile]) },
    // Floors, to tell the engine's cost from the parser's and Node's.
    {
      name: "floor: sluice's CSV parser alone",
      run: () => timed(["node", join(peers, "parser-only.mjs"), csvFile]),
    },
    { name: "floor: node -e 0", run: () => timed(["node", "-e", "0"]) },
  ];
  if (base)
    variants.push({
      name: `sluice ${BASELINE} (defaults)`,
      run: sluiceRun(base, join(base, "benchmarks/peers/run-core/pipeline.ts")),
    });
  // `--skip papaparse` (a variant's first word) leaves a variant out, for a quicker look (never the
  // reference, sluice with defaults); the figures in RESULTS.md are from runs with every variant.
  const kept = variants.filter((v) => v.name === "sluice (defaults)" || !SKIP.has(v.name.split(" ")[0]));
  compare(`orders CSV to records, ${ROWS.toLocaleString("en")} rows`, kept, "sluice (defaults)", true);
}

if (!SKIP.has("ten")) {
  const ten = join(peers, "ten.ts");
  const variants: Variant[] = [];
  for (const rt of RUNTIMES) {
    variants.push({ name: `${rt}: defaults`, run: sluiceRun(repo, ten, rt) });
    variants.push({
      name: `${rt}: SLUICE_METRICS=off`,
      run: sluiceRun(repo, ten, rt, { SLUICE_METRICS: "off" }),
    });
  }
  if (base)
    variants.push({
      name: `node: ${BASELINE} defaults`,
      run: sluiceRun(base, join(base, "benchmarks/peers/run-core/ten.ts")),
    });
  compare("10-row pipeline", variants, "node: defaults", false);
}
