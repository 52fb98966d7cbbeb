/**
 * @module How fast a reader catches the metrics store up on journals, whole process:
 *
 *   node --import tsx benchmarks/catch-up.bench.ts [--rows 400000] [--runs 5] [--rounds 3] [--baseline REV] [--settle 90]
 *   (npm run bench:catch-up)
 *
 * Makes `--runs` journals with `sluice run` (the orders CSV with 5% bad rows, validated
 * by a schema: the dead letters, stage progress, checkpoints and resource samples a real
 * run journals), then times `sluice sql "SELECT count(*) FROM runs"` on a state directory
 * whose store is gone (every journal is loaded) and again on the caught-up store (nothing
 * to load: the fixed cost of the command). Events per second = journaled events ÷ the
 * difference. GNU time gives wall, CPU (user+sys) and peak RSS; the load average is
 * printed with every round. Target (issue 14): ≥ 0.25M events/s "on the mix a real run journals
 * (5% dead letters)". Two mixes are timed, alternating: the runs above, where 5% of the rows are
 * bad and so almost every journaled event is a dead letter; and as many events of long runs
 * (`lib/journal-mix.ts`), where dead letters are 5% of the events and the rest what a run journals
 * each second. Each round also times the floor: a fresh process reading the same journals as the
 * catch-up reads them and storing nothing (`peers/catch-up/read-journals.mjs`, on the built
 * `dist/`), minus that process reading nothing; and, lower still, the same journals' frames
 * checked and payloads walked without making any value (`peers/catch-up/walk-journals.mjs`). With `--baseline REV`, the same `sluice sql` of sluice
 * at that revision (built in a git worktree) is timed in the same rounds, alternating, and the
 * ratio of the two catch-ups is printed: this machine's speed drifts by up to 2× within minutes,
 * so a change is judged by that ratio, not by events/s of two commands.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { listRunRefs, listRuns, readRunEvents } from "../src/journal/runs.ts";
import { ensureOrdersCsv } from "../src/testing/generate.ts";
import { baselineCheckout } from "./lib/baseline.ts";
import { writeMixRuns } from "./lib/journal-mix.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = join(here, "..");
const cli = join(repo, "bin", "sluice.js");
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const ROWS = Number(arg("rows", "400000"));
const RUNS = Number(arg("runs", "5"));
const ROUNDS = Number(arg("rounds", "3"));
const BASELINE = arg("baseline", "");
const TIME = "/usr/bin/time";
if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed: apt-get install -y time`);

const work = existsSync("/dev/shm") ? "/dev/shm/sluice-catch-up" : join(here, "data", "catch-up");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const csvFile = join(here, "data", `orders-bad20-${ROWS}.csv`);
await ensureOrdersCsv(csvFile, { rows: ROWS, badEvery: 20 });
const home = join(work, ".sluice");
const env = { ...process.env, RUN_CORE_CSV: csvFile, SLUICE_HOME: home, NO_COLOR: "1" };

for (let i = 0; i < RUNS; i++) {
  const r = spawnSync(
    "node",
    [cli, "run", join(here, "peers/run-core/dead-letters.ts"), "--fresh", "--quiet"],
    {
      cwd: work,
      env,
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(`run ${i} failed: ${r.stderr}`);
}
let events = 0;
let dead = 0;
for (const run of await listRuns(home))
  for await (const { event } of readRunEvents(run.runDir)) {
    events++;
    if (event.kind === "dead.letter") dead++;
  }
console.log(
  `# catch-up: ${RUNS} runs of ${ROWS.toLocaleString("en")} rows (5% bad), ${events.toLocaleString("en")} journaled events, ${dead.toLocaleString("en")} of them dead letters`,
);

// The second mix: long runs' journals, where dead letters are 5% of the events (lib/journal-mix.ts).
const mixHome = join(work, "mix", ".sluice");
const [template] = await listRunRefs(home);
const mixEvents = await writeMixRuns(mixHome, template, {
  runs: RUNS,
  eventsPerRun: Math.round(events / RUNS),
  deadEvery: 20,
});
console.log(
  `# second mix: ${RUNS} long runs' journals, ${mixEvents.toLocaleString("en")} events: per second a stage.progress per stage and a resource.sample, a checkpoint every 10 s, every 20th event a dead letter`,
);

interface Timed {
  wallS: number;
  cpuS: number;
  rssMB: number;
  out: string;
}

const base = BASELINE
  ? baselineCheckout(repo, join(here, "data"), BASELINE, join(here, "peers", "catch-up"), "catch-up")
  : undefined;
const variants = [
  { name: "sluice", cli },
  ...(base ? [{ name: `baseline ${BASELINE}`, cli: join(base, "bin", "sluice.js") }] : []),
];

function timed(args: string[], state: string): Timed {
  const r = spawnSync(TIME, ["-f", "%e %U %S %M", "node", ...args], {
    cwd: work,
    env: { ...env, SLUICE_HOME: state },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(r.stderr);
  const [wall, user, sys, rss] = (r.stderr.trim().split("\n").pop() ?? "").split(" ").map(Number);
  return { wallS: wall, cpuS: user + sys, rssMB: rss / 1024, out: r.stdout };
}

function sql(state: string, runs: number, bin = cli): Timed {
  const t = timed([bin, "sql", "SELECT count(*) AS n FROM runs", "--json"], state);
  if (JSON.parse(t.out)[0].n !== runs) throw new Error(`expected ${runs} runs: ${t.out}`);
  return t;
}

/**
 * The floor under a catch-up, as a fresh process (as cold as `sluice sql`): reading the journals
 * alone (segments read, frames checked by CRC, payloads decoded, as `catchUp` reads them; no
 * store), minus the same process reading nothing. 0.25M events/s leaves 0.4 s per 100,000 events
 * for all of it.
 */
function readFloor(state: string, events: number): { wallS: number; cpuS: number; walkS: number } {
  const script = join(here, "peers", "catch-up", "read-journals.mjs");
  const all = timed([script, state], state);
  if (JSON.parse(all.out).events !== events) throw new Error(`read ${all.out}, expected ${events} events`);
  const none = timed([script, state, "--none"], state);
  // Lower still: frames checked and payloads walked without making any value (walk-journals.mjs).
  const walker = join(here, "peers", "catch-up", "walk-journals.mjs");
  const walk = timed([walker, state], state);
  if (JSON.parse(walk.out).events !== events)
    throw new Error(`walked ${walk.out}, expected ${events} events`);
  const still = timed([walker, state, "--none"], state);
  return { wallS: all.wallS - none.wallS, cpuS: all.cpuS - none.cpuS, walkS: walk.wallS - still.wallS };
}

const mixes = [
  { name: "runs with 5% bad rows (almost every event a dead letter)", state: home, events },
  { name: "long runs, 5% of the events dead letters", state: mixHome, events: mixEvents },
];
const rows = new Map<string, string[]>(mixes.map((m) => [m.name, []]));
/** Per mix and variant: the catch-ups' wall and CPU seconds (cold minus caught up), for the ratio. */
const spent = new Map<string, Array<{ wallS: number; cpuS: number }>>();
/**
 * Before each mix of a round, waits (at most `--settle` s, default 90) for the one-minute load to
 * fall under 1: the rounds before it ran DuckDB's two threads back to back.
 */
const SETTLE_S = Number(arg("settle", "90"));
function settle(): void {
  const until = Date.now() + SETTLE_S * 1000;
  while (loadavg()[0] >= 1 && Date.now() < until) spawnSync("sleep", ["2"]);
}
for (let round = 1; round <= ROUNDS; round++) {
  for (const mix of round % 2 ? mixes : [...mixes].reverse()) {
    settle();
    for (const v of round % 2 ? variants : [...variants].reverse()) {
      const load = loadavg()[0];
      rmSync(join(mix.state, "metrics.duckdb"), { force: true });
      rmSync(join(mix.state, "metrics.duckdb.wal"), { force: true });
      const cold = sql(mix.state, RUNS, v.cli);
      const warm = sql(mix.state, RUNS, v.cli);
      const floor = readFloor(mix.state, mix.events);
      const rate = (s: number) => Math.round(mix.events / Math.max(0.001, s)).toLocaleString("en");
      const key = `${mix.name}\t${v.name}`;
      if (!spent.has(key)) spent.set(key, []);
      spent.get(key)?.push({ wallS: cold.wallS - warm.wallS, cpuS: cold.cpuS - warm.cpuS });
      rows
        .get(mix.name)
        ?.push(
          `| ${round} | ${v.name} | ${load.toFixed(2)}${load > 1 ? " (rerun)" : ""} | ${cold.wallS.toFixed(2)} | ${cold.cpuS.toFixed(2)} | ${cold.rssMB.toFixed(0)} | ${warm.wallS.toFixed(2)} | ${warm.cpuS.toFixed(2)} | ${rate(cold.wallS - warm.wallS)} | ${rate(cold.cpuS - warm.cpuS)} | ${floor.wallS.toFixed(2)} | ${floor.cpuS.toFixed(2)} | ${rate(floor.wallS)} | ${floor.walkS.toFixed(2)} |`,
        );
    }
  }
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
for (const mix of mixes) {
  console.log(`\n## ${mix.name}: ${mix.events.toLocaleString("en")} events`);
  console.log(
    "\n| round | sluice | load | cold: wall s | CPU s | RSS MB | caught up: wall s | CPU s | events/s (wall) | events/s (CPU) | floor, reading alone: wall s | CPU s | events/s (wall) | walk alone: wall s |",
  );
  console.log(
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const row of rows.get(mix.name) ?? []) console.log(row);
  if (base) {
    const now = spent.get(`${mix.name}\t${variants[0].name}`) ?? [];
    const then = spent.get(`${mix.name}\t${variants[1].name}`) ?? [];
    console.log(
      `\nCatch-up time, this tree ÷ ${BASELINE} (medians of ${ROUNDS}): wall ${(median(now.map((x) => x.wallS)) / median(then.map((x) => x.wallS))).toFixed(2)}, CPU ${(median(now.map((x) => x.cpuS)) / median(then.map((x) => x.cpuS))).toFixed(2)}`,
    );
  }
}
