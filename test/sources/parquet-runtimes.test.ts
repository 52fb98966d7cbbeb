/**
 * The Parquet source and sink through the CLI on node, bun and deno: a glob of files read with
 * projection and a `where` on an INT64 and a timestamp column, written to Parquet, and read back
 * by DuckDB; the summary names the row groups skipped by statistics.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { available, type RuntimeName, repo, runCli } from "../helpers/runtimes.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-pq-runtimes-"));
const data = join(root, "data");
const fixture = join(repo, "test/fixtures/pipelines/parquet.ts");
const runtimes: RuntimeName[] = ["node", "bun", "deno"];
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

beforeAll(async () => {
  mkdirSync(data, { recursive: true });
  for (const [name, from] of [
    ["a", 0],
    ["b", 8192],
  ] as const) {
    await duck(`COPY (SELECT i AS id, 'c' || (i % 4) AS cat, TIMESTAMP '2024-01-01' + INTERVAL (i) MINUTE AS ts, i * 0.5 AS x
      FROM range(${from}, ${from + 8192}) t(i)) TO '${data}/${name}.parquet' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
  }
});

const WHERE = {
  id: { $gte: 5000, $lt: 12_000 },
  cat: { $in: ["c1", "c3"] },
  ts: { $gte: { $date: Date.UTC(2024, 0, 4) } },
};
const SQL = `SELECT id, ts FROM read_parquet('${data}/*.parquet') WHERE id >= 5000 AND id < 12000 AND cat IN ('c1', 'c3') AND ts >= TIMESTAMP '2024-01-04' ORDER BY id`;

describe.each(runtimes)("parquet through the CLI on %s", (rt) => {
  const missing = !available(rt);
  if (missing && process.env.CI === "true") {
    it("is available", () => expect(available(rt), `${rt} is missing under CI`).toBe(true));
    return;
  }
  it.skipIf(missing)("reads a glob with columns and where, writes Parquet that DuckDB reads", async () => {
    const cwd = join(root, rt);
    mkdirSync(cwd, { recursive: true });
    const r = runCli(rt, ["run", fixture, "--home", join(cwd, ".sluice")], {
      cwd,
      env: {
        SLUICE_TEST_INPUT: `${data}/*.parquet`,
        SLUICE_TEST_OPTIONS: JSON.stringify({ columns: ["id", "ts"], where: WHERE, int64: "bigint" }),
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/parquet: 2 files, 4 of 8 row groups read \(4 skipped by statistics\)/);
    const want = await duck(SQL);
    expect(want.length).toBeGreaterThan(1000);
    expect(await duck(`SELECT id, ts FROM read_parquet('${cwd}/out/rows.parquet')`)).toEqual(want);
  });
});
