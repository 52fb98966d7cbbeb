/**
 * @module What keyed state costs a user's run, whole process, in one command:
 *
 *   node --import tsx benchmarks/state.bench.ts [--rows 2000000] [--rounds 3]
 *        [--baseline REV] [--keys 1000000,10000000] [--skip csv|keys|resume]
 *   (npm run bench:state)
 *
 * Part 1, `dedupe` on a column of distinct keys (`peers/state/dedupe.ts`: the orders CSV's `id`,
 * one key a row, to NDJSON, a checkpoint every 250 ms): `sluice run` with dedupe and without
 * it, a floor (a `filter` over a plain `Set`: what any dedupe in JS pays before it is durable or
 * bounded), and — with `--baseline REV` — with dedupe at that revision (built in a worktree under
 * benchmarks/data/); the journal's and the state directory's size beside the input's.
 * Part 2, memory against distinct keys (`peers/state/keys.ts`, generated keys, no input file).
 * Part 3, resume: the largest key count is killed (SIGKILL) after 60% of its uninterrupted time,
 * then `sluice run` resumes it; the resumed process's time to its "resuming" line and to the end.
 *
 * Every command is timed by GNU time (wall, CPU user+sys, peak RSS); rounds alternate the
 * order; the load average is printed before each round (rerun when it was over 1).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ensureOrdersCsv } from "../src/testing/generate.ts";
import { baselineCheckout } from "./lib/baseline.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = join(here, "..");
const peers = join(here, "peers", "state");
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const ROWS = Number(arg("rows", "2000000"));
const ROUNDS = Number(arg("rounds", "3"));
const BASELINE = arg("baseline", "");
const KEYS = arg("keys", "1000000,10000000").split(",").map(Number);
const SKIP = new Set(arg("skip", "").split(","));
const TIME = "/usr/bin/time";
if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed: apt-get install -y time`);
if (!existsSync(join(repo, "dist", "bundle", "cli.js"))) throw new Error("run `npm run build` first");

const data = join(here, "data");
const work = join(data, "state-work");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const csvFile = join(data, `orders-clean-${ROWS}.csv`);

interface Measured {
  wallS: number;
  cpuS: number;
  rssMB: number;
  out: string;
  home: string;
}

let homes = 0;
function sluiceRun(root: string, file: string, env: Record<string, string>): Measured {
  const home = join(work, `home-${homes++}`);
  const r = spawnSync(
    TIME,
    [
      "-f",
      "%e %U %S %M",
      "node",
      join(root, "bin", "sluice.js"),
      "run",
      file,
      "--fresh",
      "--quiet",
      "--home",
      home,
    ],
    { cwd: work, env: { ...process.env, ...env, NO_COLOR: "1" }, encoding: "utf8", maxBuffer: 64 << 20 },
  );
  const last = r.stderr.trim().split("\n").pop() ?? "";
  const [wall, user, sys, rss] = last.split(" ").map(Number);
  if (r.status !== 0 || !Number.isFinite(wall)) throw new Error(`sluice run ${file} failed:\n${r.stderr}`);
  return { wallS: wall, cpuS: user + sys, rssMB: rss / 1024, out: r.stdout.trim(), home };
}

/** Bytes of the files under `dir` whose path contains `/part/`. */
function bytesUnder(dir: string, part: string): number {
  let n = 0;
  const walk = (d: string, inside: boolean) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, inside || e.name === part);
      else if (inside) n += statSync(p).size;
    }
  };
  if (existsSync(dir)) walk(dir, false);
  return n;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mb = (b: number) => (b / 2 ** 20).toFixed(1);

function rounds(variants: Array<{ name: string; run: () => Measured }>): Map<string, Measured[]> {
  const results = new Map<string, Measured[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const load = loadavg()[0];
    console.log(
      `round ${round + 1}/${ROUNDS}: load average ${load.toFixed(2)}${load > 1 ? "  (over 1: rerun)" : ""}`,
    );
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) results.get(v.name)?.push(v.run());
  }
  return results;
}

function table(
  title: string,
  results: Map<string, Measured[]>,
  reference: string,
  extra: (m: Measured) => string[],
  extraHead: string[],
) {
  const ref = results.get(reference) ?? [];
  const rw = median(ref.map((m) => m.wallS));
  const rc = median(ref.map((m) => m.cpuS));
  const rr = median(ref.map((m) => m.rssMB));
  console.log(
    `\n| ${title} | wall s | CPU s | peak RSS MB | wall ÷ ref | CPU ÷ ref | RSS ÷ ref | ${extraHead.join(" | ")} |`,
  );
  console.log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: |${extraHead.map(() => " ---: |").join("")}`);
  for (const [name, ms] of results) {
    const w = median(ms.map((m) => m.wallS));
    const c = median(ms.map((m) => m.cpuS));
    const r = median(ms.map((m) => m.rssMB));
    console.log(
      `| ${name} | ${w.toFixed(2)} | ${c.toFixed(2)} | ${r.toFixed(0)} | ${(w / rw).toFixed(2)} | ${(c / rc).toFixed(2)} | ${(r / rr).toFixed(2)} | ${extra(ms[ms.length - 1]).join(" | ")} |`,
    );
  }
  console.log(`(ref: ${reference})`);
}

console.log(`# state benchmark, node ${process.version}`);

if (!SKIP.has("csv")) {
  await ensureOrdersCsv(csvFile, { rows: ROWS, badEvery: 0 });
  const input = statSync(csvFile).size;
  const file = join(peers, "dedupe.ts");
  const env = (dedupe: string) => ({
    STATE_CSV: csvFile,
    STATE_DEDUPE: dedupe,
    STATE_OUT: join(work, "out.ndjson"),
  });
  const variants = [
    { name: "sluice, no dedupe", run: () => sluiceRun(repo, file, env("0")) },
    { name: "sluice, dedupe", run: () => sluiceRun(repo, file, env("1")) },
    // The floor of any dedupe in JS: a filter over a plain Set (nothing durable, nothing bounded).
    { name: "floor: filter over a Set", run: () => sluiceRun(repo, file, env("set")) },
  ];
  if (BASELINE) {
    const base = baselineCheckout(repo, data, BASELINE, peers, "state");
    variants.push({
      name: `sluice ${BASELINE}, dedupe`,
      run: () => sluiceRun(base, join(base, "benchmarks/peers/state/dedupe.ts"), env("1")),
    });
  }
  console.log(`\n## dedupe on ${ROWS.toLocaleString("en")} distinct keys (input ${mb(input)} MB)\n`);
  table(
    `dedupe, ${ROWS.toLocaleString("en")} rows`,
    rounds(variants),
    "sluice, no dedupe",
    (m) => [(bytesUnder(m.home, "journal") / 1024).toFixed(0), mb(bytesUnder(m.home, "state"))],
    ["journal KB", "state MB"],
  );
}

if (!SKIP.has("keys")) {
  const file = join(peers, "keys.ts");
  console.log("\n## peak RSS against distinct keys (generated keys, no input file)\n");
  const variants = KEYS.map((k) => ({
    name: `${k.toLocaleString("en")} keys`,
    run: () => sluiceRun(repo, file, { STATE_KEYS: String(k) }),
  }));
  table("distinct keys", rounds(variants), variants[0].name, (m) => [m.out], ["output"]);
}

if (!SKIP.has("resume")) {
  const keys = KEYS[KEYS.length - 1];
  const file = join(peers, "keys.ts");
  const whole = sluiceRun(repo, file, { STATE_KEYS: String(keys) });
  const home = join(work, "resume-home");
  const cmd = ["node", join(repo, "bin", "sluice.js"), "run", file, "--quiet", "--home", home];
  const child = spawn(cmd[0], cmd.slice(1), { cwd: work, env: { ...process.env, STATE_KEYS: String(keys) } });
  await new Promise((r) => setTimeout(r, whole.wallS * 600));
  child.kill("SIGKILL");
  await new Promise((r) => child.on("exit", r));
  const t0 = performance.now();
  let resumingAt = Number.NaN;
  const resumed = spawn(
    cmd[0],
    cmd.slice(1).filter((a) => a !== "--quiet"),
    {
      cwd: work,
      env: { ...process.env, STATE_KEYS: String(keys), NO_COLOR: "1" },
    },
  );
  let err = "";
  resumed.stderr.on("data", (d: Buffer) => {
    err += d.toString();
    if (Number.isNaN(resumingAt) && /resuming run/.test(err)) resumingAt = performance.now() - t0;
  });
  const code = await new Promise((r) => resumed.on("exit", r));
  const total = performance.now() - t0;
  console.log(`\n## resume after kill -9 at 60% of ${keys.toLocaleString("en")} keys\n`);
  console.log(
    `uninterrupted: ${whole.wallS.toFixed(2)} s wall; state ${mb(bytesUnder(whole.home, "state"))} MB`,
  );
  console.log(
    `resumed process: exit ${code}, "resuming" line after ${(resumingAt / 1000).toFixed(2)} s, done after ${(total / 1000).toFixed(2)} s`,
  );
  if (code !== 0) console.log(err);
}
