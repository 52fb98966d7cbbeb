/**
 * kill -9 at random moments, resume, repeat: a pipeline with a stateful
 * operator (dedupe, spilling its keys to disk) over 200k CSV records into the NDJSON file sink and into
 * the DuckDB table sink must end with exactly the output of an uninterrupted
 * run (same SHA-256; for DuckDB, of the ordered table rows).
 *
 * Most kills wait until the attempt has made a checkpoint durable (its
 * journal grew), then a random 0-250 ms more, so they land mid-run while
 * rows are being written; every fourth is a blind random delay after spawn,
 * which also hits start-up and the resume itself. The pipeline's slow stage
 * (`SLUICE_TEST_DELAY` ms per 1000 records) keeps a run several seconds long.
 *
 * `SLUICE_KILLS` sets the number of kills per sink (default 20; `npm run soak`
 * uses 200).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureOrdersCsv, prng } from "../../src/testing/generate.ts";
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

const KILLS = Number(process.env.SLUICE_KILLS ?? 20);
/**
 * ms per 1000 records in the slow stage (~175k records reach it): 35 makes a
 * ~6 s run; more kills need a longer one (each attempt moves it on ~0.1-0.2 s).
 */
const DELAY = Math.max(35, Math.ceil(KILLS * 1.75));
const ROWS = "200000";
const root = tempRoot("sluice-kill-");
const data = join(root, "data");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sinks = ["ndjson", "duckdb"] as const;
const reference: Record<string, string> = {};

beforeAll(async () => {
  // Made here, once: the runs share data/ and must not all write it at once.
  await ensureOrdersCsv(join(data, `orders-${ROWS}.csv`), { rows: Number(ROWS), seed: 11, badEvery: 997 });
  await Promise.all(
    sinks.map(async (sink) => {
      const cwd = workdir(root, `ref-${sink}`, data);
      const r = await run("node", ["run", fixture, "--quiet", "--home", join(cwd, ".s")], {
        cwd,
        env: { SLUICE_TEST_ROWS: ROWS, SLUICE_TEST_SINK: sink },
      });
      expect(r.code, r.stderr).toBe(0);
      reference[sink] = await outputHash(cwd, sink);
    }),
  );
}, 120_000);

// The two sinks' loops run side by side: each mostly waits on its child processes.
describe.concurrent("kill -9 loop", () => {
  for (const sink of sinks) {
    it(
      `${sink}: ${KILLS} SIGKILLs at random moments, each resumed, end with the uninterrupted output`,
      async () => {
        const cwd = workdir(root, `kill-${sink}`, data);
        const home = join(cwd, ".s");
        // dedupe spills its keys to disk every 3000 keys here (the reference run never spills):
        // kills land before, during and after spills and checkpoints of the state backend.
        const env = {
          SLUICE_TEST_ROWS: ROWS,
          SLUICE_TEST_SINK: sink,
          SLUICE_TEST_DELAY: String(DELAY),
          SLUICE_TEST_MEMORY_KEYS: "3000",
        };
        const rand = prng(sink === "ndjson" ? 1 : 2);
        let kills = 0;
        let midRun = 0;
        let lastCheckpoint = 0;
        let runId: string | undefined;
        while (kills < KILLS) {
          const before = journalBytes(home);
          const child = start("node", ["run", fixture, "--quiet", "--home", home], { cwd, env });
          if (kills % 4 === 3) await sleep(Math.floor(rand() * 900));
          else {
            await waitUntil(() => child.done() || journalBytes(home) > before, 30_000);
            await sleep(Math.floor(rand() * 250));
          }
          if (child.done()) {
            const r = await child.exited;
            throw new Error(
              `the run finished before kill ${kills + 1} of ${KILLS} (exit ${r.code}): make the run longer\n${r.stderr}`,
            );
          }
          child.proc.kill("SIGKILL");
          const r = await child.exited;
          expect(r.signal).toBe("SIGKILL");
          kills++;
          const info = await latestRun(home);
          if (info) {
            runId ??= info.runId;
            expect(info.runId).toBe(runId); // every attempt continues the same run
            expect(info.status).toBe("crashed");
            const id = info.checkpoint?.id ?? 0;
            if (id > lastCheckpoint) midRun++;
            expect(id).toBeGreaterThanOrEqual(lastCheckpoint);
            lastCheckpoint = id;
          }
        }
        const last = await run("node", ["run", fixture, "--home", home], { cwd, env });
        expect(last.code, last.stderr).toBe(0);
        expect(last.stderr).toMatch(new RegExp(`resuming run ${runId} from checkpoint \\d+`));
        console.log(
          `${sink}: ${kills} kills, ${midRun} after a new checkpoint, resumed to the end from #${lastCheckpoint}`,
        );
        expect(midRun).toBeGreaterThanOrEqual(Math.floor(KILLS * 0.6));
        expect(await outputHash(cwd, sink)).toBe(reference[sink]);
        const info = await latestRun(home);
        expect(info?.status).toBe("completed");
        expect(info?.runId).toBe(runId);
        // Metrics: every journaled event of the run once in the store, across all the kills.
        const m = await metricsVsJournal(home, runId ?? "");
        const n = Object.values(m.journal).reduce((a, b) => a + b, 0);
        expect(m.seqs).toBe(`n=${n} distinct=${n} min=1 max=${n}`);
        expect(m.store).toEqual(m.journal);
        expect(m.firstDifference).toBe("none");
      },
      Math.max(240_000, KILLS * 12_000),
    );
  }
});
