/**
 * @module Event-time windows, whole process, against a plain loop and DuckDB, in one command:
 *
 *   node --import tsx benchmarks/windows.bench.ts [--rows 10000000] [--small 2000000] [--rounds 3]
 *   (npm run bench:windows)
 *
 * Data: `benchmarks/data/windows-<rows>.csv` (made once; gitignored): `ts,key,amount` with
 * 10k keys, ~100k records per minute and bounded disorder (each ts up to 20 s early), so
 * tumbling 1-minute windows with a 30 s bound and 1 m lateness see no record too late and all
 * three must agree (window rows, records, sum of amounts).
 *
 * - sluice: `sluice run peers/windows/pipeline.ts --fresh --quiet` (CSV source, no schema,
 *   `window.tumbling("1m", …)`, a sink that counts);
 * - a plain Node loop doing the same (`peers/windows/loop.mjs`: line split, Map per window,
 *   watermark; the goal is sluice ≤ 1.5× its time);
 * - DuckDB SQL `GROUP BY time_bucket` over the same CSV, `SET threads = 1` (`peers/windows/duckdb.mjs`).
 *
 * Timed by GNU time: wall, CPU (user+sys), peak RSS. Rounds alternate the order; the load
 * average is printed before each. State memory: sluice's peak RSS at `--small` rows against
 * `--rows` (state is bounded by the open windows, so it must not grow with the input).
 */
import { spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { prng } from "../src/testing/generate.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = join(here, "..");
const peers = join(here, "peers", "windows");
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const ROWS = Number(arg("rows", "10000000"));
const SMALL = Number(arg("small", "2000000"));
const ROUNDS = Number(arg("rounds", "3"));
const TIME = "/usr/bin/time";
if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed: apt-get install -y time`);
if (!existsSync(join(repo, "dist", "bundle", "cli.js"))) throw new Error("run `npm run build` first");

const data = join(here, "data");
mkdirSync(data, { recursive: true });
const work = existsSync("/dev/shm") ? "/dev/shm/sluice-windows-bench" : join(data, "windows-work");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

/** The events CSV: the first `rows` of one fixed sequence (so the small file is a prefix of the large). */
async function ensureEvents(rows: number): Promise<string> {
  const file = join(data, `windows-${rows}.csv`);
  if (existsSync(file)) return file;
  const rand = prng(17);
  const t0 = Date.UTC(2026, 0, 1);
  const tmp = `${file}.tmp`;
  const out = createWriteStream(tmp);
  let buf = "ts,key,amount\n";
  for (let i = 0; i < rows; i++) {
    const ts = t0 + Math.floor(i * 0.6) - Math.floor(rand() * 20_000);
    buf += `${ts},k${Math.floor(rand() * 10_000)},${Math.floor(rand() * 1000)}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once("drain", () => r()));
      buf = "";
    }
  }
  out.write(buf);
  await new Promise<void>((r) => out.end(r));
  renameSync(tmp, file);
  return file;
}

interface Measured {
  wallS: number;
  cpuS: number;
  rssMB: number;
  out: string;
}

function timed(cmd: string[], env: Record<string, string> = {}): Measured {
  const r = spawnSync(TIME, ["-f", "%e %U %S %M", ...cmd], {
    cwd: work,
    env: { ...process.env, ...env, NO_COLOR: "1" },
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  const last = r.stderr.trim().split("\n").pop() ?? "";
  const [wall, user, sys, rss] = last.split(" ").map(Number);
  if (r.status !== 0 || !Number.isFinite(wall)) throw new Error(`${cmd.join(" ")} failed:\n${r.stderr}`);
  return { wallS: wall, cpuS: user + sys, rssMB: rss / 1024, out: r.stdout.trim().split("\n").pop() ?? "" };
}

const sluice = (file: string) => () =>
  timed(
    [
      "node",
      join(repo, "bin", "sluice.js"),
      "run",
      join(peers, "pipeline.ts"),
      "--fresh",
      "--quiet",
      "--home",
      join(work, "home"),
    ],
    { WINDOWS_CSV: file },
  );

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const big = await ensureEvents(ROWS);
const small = await ensureEvents(SMALL);
console.log(
  `# windows benchmark: tumbling 1-minute windows, 10k keys, ${ROWS.toLocaleString("en")} rows, ${ROUNDS} rounds, node ${process.version}`,
);

const variants: Array<{ name: string; run: () => Measured }> = [
  { name: "sluice run", run: sluice(big) },
  { name: "plain Node loop", run: () => timed(["node", join(peers, "loop.mjs"), big]) },
  {
    name: "DuckDB GROUP BY time_bucket, 1 thread",
    run: () => timed(["node", join(peers, "duckdb.mjs"), big]),
  },
  { name: `sluice run, ${SMALL.toLocaleString("en")} rows`, run: sluice(small) },
];
const results = new Map<string, Measured[]>(variants.map((v) => [v.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  const load = loadavg();
  console.log(
    `round ${round + 1}/${ROUNDS}: load average ${load.map((l) => l.toFixed(2)).join(" ")}${load[0] > 2 ? "  (over 2: figures are noisy)" : ""}`,
  );
  for (const v of order) results.get(v.name)?.push(v.run());
}
const outs = new Set(variants.slice(0, 3).map((v) => results.get(v.name)?.[0].out));
console.log(outs.size === 1 ? `outputs agree: ${[...outs][0]}` : `OUTPUTS DIFFER: ${[...outs].join(" | ")}`);
const fig = (name: string) => {
  const ms = results.get(name) ?? [];
  return {
    w: median(ms.map((m) => m.wallS)),
    c: median(ms.map((m) => m.cpuS)),
    r: median(ms.map((m) => m.rssMB)),
  };
};
const loop = fig("plain Node loop");
console.log("\n| variant | wall s | CPU s | peak RSS MB | wall ÷ loop | CPU ÷ loop |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const v of variants) {
  const f = fig(v.name);
  console.log(
    `| ${v.name} | ${f.w.toFixed(2)} | ${f.c.toFixed(2)} | ${f.r.toFixed(0)} | ${(f.w / loop.w).toFixed(2)} | ${(f.c / loop.c).toFixed(2)} |`,
  );
}
const a = fig(`sluice run, ${SMALL.toLocaleString("en")} rows`);
const b = fig("sluice run");
console.log(
  `\nsluice peak RSS: ${a.r.toFixed(0)} MB at ${SMALL.toLocaleString("en")} rows, ${b.r.toFixed(0)} MB at ${ROWS.toLocaleString("en")} rows (×${(b.r / a.r).toFixed(2)} for ×${(ROWS / SMALL).toFixed(0)} the input)`,
);
rmSync(work, { recursive: true, force: true });
