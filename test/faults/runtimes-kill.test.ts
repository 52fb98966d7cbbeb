/**
 * The kill -9 / resume scenario on Bun and Deno (smaller than the node loop):
 * three SIGKILLs mid-run, each resumed on the same runtime, must end with the
 * output node produces uninterrupted — NDJSON on Bun, the DuckDB table on Deno.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureOrdersCsv, prng } from "../../src/testing/generate.ts";
import type { RuntimeName } from "../helpers/runtimes.ts";
import {
  fixture,
  journalBytes,
  latestRun,
  metricsVsJournal,
  outputHash,
  run,
  sleep,
  start,
  tempRoot,
  waitUntil,
  workdir,
} from "./run-helpers.ts";

const root = tempRoot("sluice-rtkill-");
const data = join(root, "data");
afterAll(() => rmSync(root, { recursive: true, force: true }));
const ROWS = "40000";
const cases: Array<{ runtime: RuntimeName; sink: "ndjson" | "duckdb" }> = [
  { runtime: "bun", sink: "ndjson" },
  { runtime: "deno", sink: "duckdb" },
];
const reference: Record<string, string> = {};

beforeAll(async () => {
  await ensureOrdersCsv(join(data, `orders-${ROWS}.csv`), { rows: Number(ROWS), seed: 11, badEvery: 997 });
  for (const { sink } of cases) {
    const cwd = workdir(root, `ref-${sink}`, data);
    const r = await run("node", ["run", fixture, "--quiet", "--home", join(cwd, ".s")], {
      cwd,
      env: { SLUICE_TEST_ROWS: ROWS, SLUICE_TEST_SINK: sink },
    });
    expect(r.code, r.stderr).toBe(0);
    reference[sink] = await outputHash(cwd, sink);
  }
}, 120_000);

describe.concurrent("kill -9 and resume on other runtimes", () => {
  for (const { runtime, sink } of cases) {
    it(`${runtime}, ${sink}: 3 SIGKILLs mid-run, resumed on ${runtime}, give node's uninterrupted output`, async () => {
      const cwd = workdir(root, `${runtime}-${sink}`, data);
      const home = join(cwd, ".s");
      // ~4 s; dedupe spills its keys to disk every 2000 keys (the reference run never does).
      const env = {
        SLUICE_TEST_ROWS: ROWS,
        SLUICE_TEST_SINK: sink,
        SLUICE_TEST_DELAY: "110",
        SLUICE_TEST_MEMORY_KEYS: "2000",
      };
      const rand = prng(runtime === "bun" ? 3 : 4);
      let last = 0;
      for (let k = 0; k < 3; k++) {
        const before = journalBytes(home);
        const child = start(runtime, ["run", fixture, "--quiet", "--home", home], { cwd, env });
        await waitUntil(() => child.done() || journalBytes(home) > before, 60_000);
        await sleep(Math.floor(rand() * 300));
        expect(child.done(), `${runtime} finished before kill ${k + 1}`).toBe(false);
        child.proc.kill("SIGKILL");
        await child.exited;
        const info = await latestRun(home);
        expect(info?.status).toBe("crashed");
        expect(info?.checkpoint?.id ?? 0).toBeGreaterThan(last);
        last = info?.checkpoint?.id ?? 0;
      }
      const done = await run(runtime, ["run", fixture, "--home", home], { cwd, env });
      expect(done.code, done.stderr).toBe(0);
      expect(done.stderr).toMatch(/resuming run \S+ from checkpoint \d+/);
      expect(await outputHash(cwd, sink)).toBe(reference[sink]);
      // The metrics store took every journaled event of the run exactly once,
      // across the kills (re-ingested from the journal) and the resumes (live).
      const runId = (await latestRun(home))?.runId ?? "";
      const m = await metricsVsJournal(home, runId);
      const n = Object.values(m.journal).reduce((a, b) => a + b, 0);
      expect(m.seqs).toBe(`n=${n} distinct=${n} min=1 max=${n}`);
      expect(m.store).toEqual(m.journal);
      expect(m.firstDifference).toBe("none");
    }, 180_000);
  }
});
