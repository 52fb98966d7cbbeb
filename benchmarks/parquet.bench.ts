/**
 * @module The Parquet source against its peers, whole processes, in one command:
 *
 *   node --import tsx benchmarks/parquet.bench.ts [--rows 10000000] [--rounds 3] [--skip clustered|scattered]
 *   (npm run bench:parquet)
 *
 * A file of `--rows` rows × 10 columns (id BIGINT in order, user_id INT scattered, amount,
 * category, ts, qty, price, flag, note, score; DuckDB's default row groups of 122,880 rows)
 * is generated once into benchmarks/data/. Two reads of 2 columns (id, amount) with a
 * predicate keeping 1% of the rows: `clustered` (`id >= 99% of rows`: statistics exclude all
 * row groups but one) and `scattered` (`user_id < 1000` of 100,000 values: no row group can
 * be skipped, every row is decoded and tested). Peers: `sluice run` of
 * `peers/parquet/pipeline.ts` (node), DuckDB `read_parquet` with `threads=1`, hyparquet's
 * `parquetReadObjects` with its filter, and nodejs-polars `scanParquet` with
 * POLARS_MAX_THREADS=1; every peer hands the matching rows to JS.
 *
 * Every command is timed by GNU time: wall, CPU (user+sys) and peak RSS of the whole process.
 * Rounds alternate the order of the commands; the load average is printed before each round.
 * Outputs are checked to agree (rows and the sum of id). Row groups skipped are read from
 * sluice's summary; hyparquet plans with the same statistics rules, DuckDB and polars do not
 * report theirs.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = join(here, "..");
const peers = join(here, "peers", "parquet");
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const ROWS = Number(arg("rows", "10000000"));
const ROUNDS = Number(arg("rounds", "3"));
const SKIP = new Set(arg("skip", "").split(","));
const TIME = "/usr/bin/time";
if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed: apt-get install -y time`);
if (!existsSync(join(repo, "dist", "bundle", "cli.js"))) throw new Error("run `npm run build` first");

const data = join(here, "data");
mkdirSync(data, { recursive: true });
const file = join(data, `parquet-${ROWS}.parquet`);
const work = join(data, "parquet-work");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

if (!existsSync(file)) {
  console.log(`generating ${file} …`);
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  await c.run("SET threads = 1"); // rows stay in id order
  await c.run(`COPY (SELECT i AS id, (hash(i) % 100000)::INTEGER AS user_id, (hash(i * 7) % 100000) / 100.0 AS amount,
      ['a','b','c','d','e','f','g','h'][(i % 8) + 1] AS category, TIMESTAMP '2024-01-01' + to_seconds(i) AS ts,
      (i % 50)::INTEGER AS qty, (hash(i * 3) % 10000) / 7.0 AS price, i % 3 = 0 AS flag, 'note ' || (i % 1000) AS note,
      (hash(i * 11) % 1000000) / 1e6 AS score FROM range(${ROWS}) t(i))
    TO '${file}' (FORMAT parquet)`);
  c.closeSync();
}

interface Measured {
  wallS: number;
  cpuS: number;
  rssMB: number;
  out: string;
  skipped: string;
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
  if (r.status !== 0 || !Number.isFinite(wall))
    throw new Error(`${cmd.join(" ")} failed:\n${r.stdout}${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  const skipped = /(\d[\d,]*) of (\d[\d,]*) row groups read \((\d[\d,]*) skipped/.exec(r.stdout);
  return {
    wallS: wall,
    cpuS: user + sys,
    rssMB: rss / 1024,
    out: lines[0] ?? "",
    skipped: skipped ? `${skipped[3]} of ${skipped[2]}` : "",
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Variant {
  readonly name: string;
  readonly skipped?: string;
  readonly run: () => Measured;
}

const SCENARIOS = {
  clustered: { where: { id: { $gte: ROWS * 0.99 } }, sql: `id >= ${ROWS * 0.99}` },
  scattered: { where: { user_id: { $lt: 1000 } }, sql: "user_id < 1000" },
};

console.log(
  `# Parquet benchmark: ${ROWS.toLocaleString("en")} rows × 10 columns, ${ROUNDS} rounds, node ${process.version}`,
);
for (const [name, s] of Object.entries(SCENARIOS)) {
  if (SKIP.has(name)) continue;
  const where = JSON.stringify(s.where);
  const home = join(work, `home-${name}`);
  const variants: Variant[] = [
    {
      name: "sluice run (node)",
      run: () =>
        timed(
          [
            "node",
            join(repo, "bin", "sluice.js"),
            "run",
            join(peers, "pipeline.ts"),
            "--fresh",
            "--home",
            home,
          ],
          {
            PQ_FILE: file,
            PQ_WHERE: where,
          },
        ),
    },
    {
      name: "DuckDB read_parquet, 1 thread",
      skipped: "not reported",
      run: () => timed(["node", join(peers, "duckdb.mjs"), file, s.sql]),
    },
    {
      name: "hyparquet parquetReadObjects",
      skipped: "as sluice (same planner)",
      run: () => timed(["node", join(peers, "hyparquet.mjs"), file, where]),
    },
    {
      name: "nodejs-polars scanParquet, 1 thread",
      skipped: "not reported",
      run: () =>
        timed(["node", join(peers, "polars.mjs"), file, name, String(ROWS)], { POLARS_MAX_THREADS: "1" }),
    },
  ];
  console.log(`\n## ${name}: ${s.sql}, columns id and amount\n`);
  const results = new Map<string, Measured[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    const load = loadavg();
    console.log(`round ${round + 1}/${ROUNDS}: load average ${load.map((l) => l.toFixed(2)).join(" ")}`);
    for (const v of order) results.get(v.name)?.push(v.run());
  }
  const outs = new Set(variants.map((v) => results.get(v.name)?.[0]?.out));
  if (outs.size > 1)
    for (const v of variants) console.log(`OUTPUTS DIFFER: ${v.name}: ${results.get(v.name)?.[0]?.out}`);
  else console.log(`every peer: ${[...outs][0]}`);
  console.log("\n| peer | wall s | CPU s | peak RSS MB | input rows/s | row groups skipped |");
  console.log("| --- | ---: | ---: | ---: | ---: | --- |");
  for (const v of variants) {
    const ms = results.get(v.name) ?? [];
    const w = median(ms.map((m) => m.wallS));
    const c = median(ms.map((m) => m.cpuS));
    const r = median(ms.map((m) => m.rssMB));
    const rate = `${(ROWS / w / 1e6).toFixed(1)}M`;
    console.log(
      `| ${v.name} | ${w.toFixed(2)} | ${c.toFixed(2)} | ${r.toFixed(0)} | ${rate} | ${ms[0]?.skipped || v.skipped || ""} |`,
    );
  }
}
console.log(
  `\nload average at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
