/**
 * kill -9 during windowed runs: event-time windows over out-of-order orders
 * (late records within lateness, and too-late ones in the dead letter), killed
 * at random moments and resumed, must end with exactly the output of an
 * uninterrupted run (same SHA-256 of the NDJSON file), also with
 * `emit: "updates"`, and for `keyed()` state with timers and a TTL. On node,
 * two loops (tumbling/final and session/updates) of `SLUICE_WINDOW_KILLS`
 * kills each (default 12: 24 in all) and one of 4 over `keyed()`; on bun and deno
 * a smaller run (3 kills; sliding/final and tumbling/updates), compared with
 * node's uninterrupted output. Node's tumbling loop and the bun and deno runs
 * send too-late records to a `late` sink (out/late.ndjson): it too must equal
 * the uninterrupted run's, and the summary's count of late records must be
 * its line count, with none of them in the dead letter.
 *
 * Kills wait until the attempt made a checkpoint durable (its journal grew),
 * then a random 0-250 ms more; every fourth is a blind random delay after
 * spawn, which also hits start-up and the resume itself.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureOrdersCsv, prng } from "../../src/testing/generate.ts";
import { type RuntimeName, repo } from "../helpers/runtimes.ts";
import {
  journalBytes,
  latestRun,
  run,
  sha,
  sleep,
  start,
  tempRoot,
  waitUntil,
  workdir,
} from "./run-helpers.ts";

const fixture = join(repo, "test/fixtures/pipelines/windowed.ts");
const KILLS = Number(process.env.SLUICE_WINDOW_KILLS ?? 12);
const root = tempRoot("sluice-window-kill-");
const data = join(root, "data");
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Case {
  readonly runtime: RuntimeName;
  readonly window: "tumbling" | "sliding" | "session" | "keyed";
  readonly emit: "final" | "updates";
  readonly rows: number;
  /** ms per 1000 records in the slow stage: long enough a run for the kills. */
  readonly delay: number;
  readonly kills: number;
  /** Too-late records to the `late` sink (out/late.ndjson) instead of the dead letter. */
  readonly late?: boolean;
}

const cases: Case[] = [
  { runtime: "node", window: "tumbling", emit: "final", rows: 100_000, delay: 70, kills: KILLS, late: true },
  { runtime: "node", window: "session", emit: "updates", rows: 100_000, delay: 70, kills: KILLS },
  { runtime: "node", window: "keyed", emit: "final", rows: 100_000, delay: 70, kills: 4 },
  { runtime: "bun", window: "sliding", emit: "final", rows: 40_000, delay: 110, kills: 3, late: true },
  { runtime: "deno", window: "tumbling", emit: "updates", rows: 40_000, delay: 110, kills: 3, late: true },
];
const label = (c: Case) => `${c.window}/${c.emit}/${c.rows}${c.late ? "/late" : ""}`;
const envOf = (c: Case, delay = 0) => ({
  SLUICE_TEST_ROWS: String(c.rows),
  SLUICE_TEST_WINDOW: c.window,
  SLUICE_TEST_EMIT: c.emit,
  SLUICE_TEST_DELAY: String(delay),
  SLUICE_TEST_LATE: c.late ? "sink" : "",
});
const reference: Record<string, string> = {};
const lateReference: Record<string, string> = {};

beforeAll(async () => {
  for (const rows of new Set(cases.map((c) => c.rows))) {
    await ensureOrdersCsv(join(data, `orders-${rows}.csv`), { rows, seed: 11, badEvery: 997 });
  }
  await Promise.all(
    cases.map(async (c) => {
      const cwd = workdir(root, `ref-${c.window}-${c.emit}-${c.rows}${c.late ? "-late" : ""}`, data);
      const r = await run("node", ["run", fixture, "--quiet", "--home", join(cwd, ".s")], {
        cwd,
        env: envOf(c),
      });
      expect(r.code, r.stderr).toBe(0);
      reference[label(c)] = sha(join(cwd, "out/orders.ndjson"));
      if (c.late) lateReference[label(c)] = sha(join(cwd, "out/late.ndjson"));
    }),
  );
}, 120_000);

describe.concurrent("kill -9 during windowed runs", () => {
  for (const c of cases) {
    it(`${c.runtime}, ${c.window === "keyed" ? "keyed()" : `${c.window} windows, emit ${c.emit}`}: ${c.kills} SIGKILLs, each resumed, end with the uninterrupted output`, async () => {
      const cwd = workdir(root, `kill-${c.runtime}-${c.window}-${c.emit}`, data);
      const home = join(cwd, ".s");
      const env = envOf(c, c.delay);
      const rand = prng(c.window.length * 31 + c.emit.length + c.runtime.length);
      let runId: string | undefined;
      let last = 0;
      let midRun = 0;
      for (let k = 0; k < c.kills; k++) {
        const before = journalBytes(home);
        const child = start(c.runtime, ["run", fixture, "--quiet", "--home", home], { cwd, env });
        if (c.runtime === "node" && k % 4 === 3) await sleep(Math.floor(rand() * 900));
        else {
          await waitUntil(() => child.done() || journalBytes(home) > before, 60_000);
          await sleep(Math.floor(rand() * 250));
        }
        if (child.done()) {
          const r = await child.exited;
          throw new Error(
            `the run finished before kill ${k + 1} (exit ${r.code}): make it longer\n${r.stderr}`,
          );
        }
        child.proc.kill("SIGKILL");
        expect((await child.exited).signal).toBe("SIGKILL");
        const info = await latestRun(home);
        if (info) {
          runId ??= info.runId;
          expect(info.runId).toBe(runId);
          expect(info.status).toBe("crashed");
          const id = info.checkpoint?.id ?? 0;
          expect(id).toBeGreaterThanOrEqual(last);
          if (id > last) midRun++;
          last = id;
        }
      }
      const done = await run(c.runtime, ["run", fixture, "--home", home], { cwd, env });
      expect(done.code, done.stderr).toBe(0);
      expect(done.stderr).toMatch(/resuming run \S+ from checkpoint \d+/);
      console.log(
        `${c.runtime} ${label(c)}: ${c.kills} kills, ${midRun} after a new checkpoint, resumed from #${last}`,
      );
      expect(midRun).toBeGreaterThanOrEqual(Math.floor(c.kills * 0.5));
      expect(sha(join(cwd, "out/orders.ndjson"))).toBe(reference[label(c)]);
      if (c.late) {
        expect(sha(join(cwd, "out/late.ndjson"))).toBe(lateReference[label(c)]);
        const lines = readFileSync(join(cwd, "out/late.ndjson"), "utf8").trim().split("\n");
        expect(lines.length).toBeGreaterThan(100);
        expect(JSON.parse(lines[0]).reason).toMatch(/^late by /);
        // Counts reconcile: the summary counts every late record the sink holds, and none was dead-lettered.
        expect(done.stdout).toContain(`: ${lines.length.toLocaleString("en-US")} → `);
        const dead = latestDeadLetters(home);
        expect(dead).not.toMatch(/late by/);
      }
      expect((await latestRun(home))?.status).toBe("completed");
    }, 240_000);
  }
});

/** The dead-letter file of the pipeline's (one) run under `home`, or "" when it has none. */
function latestDeadLetters(home: string): string {
  const dir = join(home, "faults");
  for (const run of existsSync(dir) ? readdirSync(dir) : []) {
    const f = join(dir, run, "dead-letter.ndjson");
    if (existsSync(f)) return readFileSync(f, "utf8");
  }
  return "";
}
