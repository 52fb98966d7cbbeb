/**
 * kill -9 at random moments, resume, repeat: Parquet files (a glob, row groups of 2048, a
 * `where`) → slow stage → Parquet sink. The resumed run's output, read by DuckDB, must hold
 * exactly the rows of an uninterrupted run in the same order, and those are what DuckDB's
 * own reader selects from the input: the source resumes inside row groups (file, row group,
 * row) and the sink's committed row groups are neither lost nor doubled.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listRuns } from "../../src/journal/runs.ts";
import { prng } from "../../src/testing/generate.ts";
import { repo } from "../helpers/runtimes.ts";
import { journalBytes, run, sleep, start, tempRoot, waitUntil, workdir } from "./run-helpers.ts";

const KILLS = Number(process.env.SLUICE_KILLS ?? 10);
const fixture = join(repo, "test/fixtures/pipelines/parquet.ts");
const root = tempRoot("sluice-pq-kill-");
const data = join(root, "data");
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function duck(sql: string) {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    await c.run("SET threads = 1");
    return (await c.runAndReadAll(sql)).getRowsJson();
  } finally {
    c.closeSync();
  }
}

const env = {
  SLUICE_TEST_INPUT: "data/*.parquet",
  SLUICE_TEST_OPTIONS: JSON.stringify({ where: { k: { $ne: 3 } }, columns: ["id", "s", "k"] }),
  SLUICE_TEST_DELAY: "60",
};
let reference: unknown[][] = [];

beforeAll(async () => {
  mkdirSync(data, { recursive: true });
  for (const [name, from] of [
    ["a", 0],
    ["b", 50_000],
  ] as const) {
    await duck(`COPY (SELECT i AS id, 'row ' || i AS s, i % 7 AS k FROM range(${from}, ${from + 50_000}) t(i))
      TO '${data}/${name}.parquet' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
  }
  const cwd = workdir(root, "ref", data);
  const r = await run("node", ["run", fixture, "--quiet", "--home", join(cwd, ".s")], {
    cwd,
    env: { ...env, SLUICE_TEST_DELAY: "0" },
  });
  expect(r.code, r.stderr).toBe(0);
  reference = await duck(`SELECT * FROM read_parquet('${cwd}/out/rows.parquet')`);
  expect(reference).toEqual(
    await duck(
      `SELECT id::DOUBLE AS id, s, k::DOUBLE AS k FROM read_parquet('${data}/*.parquet') WHERE k <> 3 ORDER BY id`,
    ),
  );
}, 120_000);

describe("parquet kill -9 loop", () => {
  it(
    `${KILLS} SIGKILLs at random moments, each resumed, end with the uninterrupted output`,
    async () => {
      const cwd = workdir(root, "kill", data);
      const home = join(cwd, ".s");
      const rand = prng(7);
      let kills = 0;
      let midRun = 0;
      let lastCheckpoint = 0;
      while (kills < KILLS) {
        const before = journalBytes(home, "parquet");
        const child = start("node", ["run", fixture, "--quiet", "--home", home], { cwd, env });
        if (kills % 4 === 3) await sleep(Math.floor(rand() * 900));
        else {
          await waitUntil(() => child.done() || journalBytes(home, "parquet") > before, 30_000);
          await sleep(Math.floor(rand() * 250));
        }
        if (child.done()) {
          const r = await child.exited;
          throw new Error(
            `the run finished before kill ${kills + 1} (exit ${r.code}): make it longer\n${r.stderr}`,
          );
        }
        child.proc.kill("SIGKILL");
        expect((await child.exited).signal).toBe("SIGKILL");
        kills++;
        const id = (await listRuns(home, "parquet")).at(-1)?.checkpoint?.id ?? 0;
        expect(id).toBeGreaterThanOrEqual(lastCheckpoint);
        if (id > lastCheckpoint) midRun++;
        lastCheckpoint = id;
      }
      expect(midRun, "kills that came after a new checkpoint").toBeGreaterThanOrEqual(
        Math.floor(KILLS * 0.6),
      );
      const last = await run("node", ["run", fixture, "--home", home], { cwd, env });
      expect(last.code, last.stderr).toBe(0);
      expect(last.stderr).toMatch(/resuming run \S+ from checkpoint \d+/);
      const runs = await listRuns(home, "parquet");
      expect(runs.length).toBe(1);
      expect(runs[0]?.status).toBe("completed");
      const got = await duck(`SELECT * FROM read_parquet('${cwd}/out/rows.parquet')`);
      expect(got.length).toBe(reference.length);
      expect(got).toEqual(reference);
    },
    Math.max(240_000, KILLS * 15_000),
  );
});
