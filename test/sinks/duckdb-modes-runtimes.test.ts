/**
 * The DuckDB sink's modes through the CLI on node, bun and deno: a second
 * run (`--fresh`) leaves the table holding one run's rows in `replace` (the
 * default) and `upsert` modes and both runs' rows in `append`; a SIGKILL at
 * a crash point, then a plain `sluice run`, ends with the table an
 * uninterrupted node run leaves (exactly once). Under CI=true a missing
 * runtime fails.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureOrdersCsv } from "../../src/testing/generate.ts";
import { fixture, latestRun, outputHash, run, tempRoot, workdir } from "../faults/run-helpers.ts";
import { available, type RuntimeName } from "../helpers/runtimes.ts";

const root = tempRoot("sluice-duckdb-modes-");
const data = join(root, "data");
afterAll(() => rmSync(root, { recursive: true, force: true }));
const ROWS = "4000";
const base = { SLUICE_TEST_ROWS: ROWS, SLUICE_TEST_SINK: "duckdb", SLUICE_TEST_CP: "20" };
type Mode = "replace" | "append" | "upsert";
const reference: Partial<Record<Mode, string>> = {};
let referenceRows = 0;

async function count(cwd: string): Promise<{ n: number; runs: number }> {
  const db = await DuckDBInstance.create(join(cwd, "out/orders.duckdb"), { access_mode: "READ_ONLY" });
  const conn = await db.connect();
  try {
    const r = await conn.runAndReadAll(
      "SELECT count(*) AS n, count(DISTINCT _sluice_run) AS runs FROM orders",
    );
    const [c] = r.getRowObjectsJson() as Array<Record<string, string>>;
    return { n: Number(c.n), runs: Number(c.runs) };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

beforeAll(async () => {
  await ensureOrdersCsv(join(data, `orders-${ROWS}.csv`), { rows: Number(ROWS), seed: 11, badEvery: 997 });
  for (const mode of ["replace", "upsert"] as Mode[]) {
    const cwd = workdir(root, `ref-${mode}`, data);
    const r = await run("node", ["run", fixture, "--quiet", "--home", join(cwd, ".s")], {
      cwd,
      env: { ...base, SLUICE_TEST_DUCKDB_MODE: mode },
    });
    expect(r.code, r.stderr).toBe(0);
    reference[mode] = await outputHash(cwd, "duckdb");
    referenceRows = (await count(cwd)).n;
  }
  expect(reference.upsert).toBe(reference.replace); // the ids are unique: upsert keeps every row
  expect(referenceRows).toBeGreaterThan(100);
}, 120_000);

const runtimes: RuntimeName[] = ["node", "bun", "deno"];

describe("duckdb sink modes on every runtime", () => {
  for (const rt of runtimes) {
    it(`${rt}: a second run with --fresh replaces (default), upserts or appends`, async () => {
      if (!available(rt) && process.env.CI !== "true") return; // under CI a missing runtime fails below
      for (const mode of ["replace", "upsert", "append"] as Mode[]) {
        const cwd = workdir(root, `${rt}-${mode}`, data);
        const home = join(cwd, ".s");
        const env = { ...base, SLUICE_TEST_DUCKDB_MODE: mode };
        for (const args of [[], ["--fresh"]]) {
          const r = await run(rt, ["run", fixture, "--quiet", "--home", home, ...args], { cwd, env });
          expect(r.code, `${mode}: ${r.stderr}`).toBe(0);
        }
        const c = await count(cwd);
        if (mode === "append") expect(c, mode).toEqual({ n: 2 * referenceRows, runs: 2 });
        else {
          expect(c, mode).toEqual({ n: referenceRows, runs: 1 });
          expect(await outputHash(cwd, "duckdb"), mode).toBe(reference[mode]);
        }
      }
    }, 600_000);

    for (const [mode, fault] of [
      ["replace", "after-sink-commit@2"],
      ["replace", "before-run-ended"],
      ["upsert", "after-sink-commit@2"],
    ] as Array<[Mode, string]>) {
      // On node, replace (the default mode) is crashed at every crash point by test/faults/crash-points.test.ts.
      if (rt === "node" && mode === "replace") continue;
      it(`${rt}, ${mode}: SIGKILL at ${fault}, then resume → the uninterrupted table`, async () => {
        if (!available(rt) && process.env.CI !== "true") return; // under CI a missing runtime fails below
        const cwd = workdir(root, `${rt}-${mode}-${fault.replace("@", "-")}`, data);
        const home = join(cwd, ".s");
        const env = { ...base, SLUICE_TEST_DUCKDB_MODE: mode, SLUICE_TEST_DELAY: "100" };
        if (fault === "before-run-ended") {
          // A previous completed run, so the swap has a table to replace.
          const first = await run(rt, ["run", fixture, "--quiet", "--home", home], { cwd, env });
          expect(first.code, first.stderr).toBe(0);
        }
        const crashed = await run(rt, ["run", fixture, "--quiet", "--fresh", "--home", home], {
          cwd,
          env: { ...env, SLUICE_FAULT: fault },
        });
        expect(crashed.signal, `did not crash at ${fault}: ${crashed.stderr}`).toBe("SIGKILL");
        const before = await latestRun(home);
        expect(before?.status).toBe("crashed");
        const resumed = await run(rt, ["run", fixture, "--home", home], { cwd, env });
        expect(resumed.code, resumed.stderr).toBe(0);
        expect(resumed.stderr).toContain(`resuming run ${before?.runId}`);
        expect(await count(cwd)).toEqual({ n: referenceRows, runs: 1 });
        expect(await outputHash(cwd, "duckdb")).toBe(reference[mode]);
        expect((await latestRun(home))?.runId).toBe(before?.runId);
      }, 300_000);
    }
  }
});
