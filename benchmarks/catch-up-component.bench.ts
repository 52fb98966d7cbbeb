/**
 * @module The journal catch-up alone, in this process: `openMetricsStore` on a
 * state directory without a store, then `catchUp` over its journals, timed
 * (wall and `process.cpuUsage`, which counts DuckDB's threads too) apart from
 * the store's opening and closing. Compares two source trees at the same
 * moment, alternating, each measurement in a fresh process:
 *
 *   node --import tsx benchmarks/catch-up-component.bench.ts --state DIR
 *     [--src src] [--vs benchmarks/data/baseline/src] [--rounds 5]
 *
 * `--state` is a state directory with journals (e.g. the `.sluice` that
 * `npm run bench:catch-up` leaves in /dev/shm/sluice-catch-up); it is copied
 * per measurement (without its metrics file) to a temporary directory.
 * `--vs` is another checkout's `src` (e.g. `git archive main src | tar -x -C
 * benchmarks/data/baseline`). The whole-process figure is `bench:catch-up`'s;
 * this one is for before/after comparisons on a shared machine.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    state: { type: "string" },
    src: { type: "string", default: "src" },
    vs: { type: "string" },
    rounds: { type: "string", default: "5" },
    child: { type: "boolean", default: false },
  },
});

interface Measure {
  events: number;
  openS: number;
  wallS: number;
  cpuS: number;
  closeS: number;
}

if (values.child) {
  // One measurement: `--state` is the copied state directory, `--src` the tree to import.
  const src = resolve(values.src ?? "src");
  const home = resolve(values.state ?? "");
  const { openMetricsStore } = await import(pathToFileURL(join(src, "metrics/store.ts")).href);
  const { catchUp } = await import(pathToFileURL(join(src, "metrics/catch-up.ts")).href);
  const t0 = performance.now();
  const store = await openMetricsStore(home);
  const t1 = performance.now();
  const c0 = process.cpuUsage();
  const r = await catchUp(store, home);
  const c1 = process.cpuUsage(c0);
  const t2 = performance.now();
  await store.close();
  const t3 = performance.now();
  const m: Measure = {
    events: r.events,
    openS: (t1 - t0) / 1000,
    wallS: (t2 - t1) / 1000,
    cpuS: (c1.user + c1.system) / 1e6,
    closeS: (t3 - t2) / 1000,
  };
  console.log(JSON.stringify(m));
  process.exit(0);
}

if (!values.state) throw new Error("--state DIR (a state directory with journals) is needed");
const trees = [values.src ?? "src", ...(values.vs ? [values.vs] : [])];
const rounds = Number(values.rounds);
const results = new Map<string, Measure[]>(trees.map((t) => [t, []]));

function measure(tree: string): Measure {
  const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "sluice-cu-"));
  try {
    cpSync(resolve(values.state ?? ""), dir, {
      recursive: true,
      filter: (p) => !p.includes("metrics.duckdb"),
    });
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", process.argv[1], "--child", "--state", dir, "--src", tree],
      { encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`${tree}: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as Measure;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  "| round | tree | load | events | open s | catch-up wall s | CPU s | close s | events/s wall | events/s CPU |",
);
console.log("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
const fmt = (n: number) => Math.round(n).toLocaleString("en");
for (let round = 1; round <= rounds; round++) {
  const order = round % 2 === 1 ? trees : [...trees].reverse();
  for (const tree of order) {
    const load = loadavg()[0];
    const m = measure(tree);
    results.get(tree)?.push(m);
    console.log(
      `| ${round} | ${tree} | ${load.toFixed(2)} | ${m.events} | ${m.openS.toFixed(2)} | ${m.wallS.toFixed(3)} | ${m.cpuS.toFixed(3)} | ${m.closeS.toFixed(2)} | ${fmt(m.events / m.wallS)} | ${fmt(m.events / m.cpuS)} |`,
    );
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [tree, ms] of results) {
  const wall = median(ms.map((m) => m.wallS));
  const cpu = median(ms.map((m) => m.cpuS));
  console.log(
    `# ${tree}: median catch-up ${wall.toFixed(3)} s wall, ${cpu.toFixed(3)} s CPU: ${fmt(ms[0].events / wall)} events/s wall, ${fmt(ms[0].events / cpu)} events/s CPU`,
  );
}
