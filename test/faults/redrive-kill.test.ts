/**
 * kill -9 during a redrive (issue 20): the redrive is a journaled run, so
 * after SIGKILLs mid-way `sluice resume` finishes it, and the end state is
 * the uninterrupted one — the sink holds exactly what a clean run of the
 * fixed pipeline holds, the queue exactly the letters that still fail, and
 * the counts reconcile. While it is unfinished, `sluice dlq` shows it pending
 * and a second redrive of the run is refused (its records may be at the sink).
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listRuns } from "../../src/journal/runs.ts";
import { prng } from "../../src/testing/generate.ts";
import {
  fileLetterKeys,
  fixture,
  journalBytes,
  letterKey,
  redriveDir,
  shownLetters,
  sortedLines,
  sortedRows,
  workdir,
  writeInput,
} from "../dlq/helpers.ts";
import { type RuntimeName, runCli } from "../helpers/runtimes.ts";
import { sleep, start, waitUntil } from "./run-helpers.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-dlq-kill-"));
const data = join(root, "data");
afterAll(() => rmSync(root, { recursive: true, force: true }));
const FIXED = { SLUICE_DLQ_FIXED: "1" };
const cases: Array<{ runtime: RuntimeName; sink: "ndjson" | "duckdb" }> = [
  { runtime: "node", sink: "ndjson" },
  { runtime: "deno", sink: "duckdb" },
];
const clean: Record<string, { out: string[]; dead: string[] }> = {};

beforeAll(async () => {
  writeInput(data);
  for (const { sink } of cases) {
    const cwd = workdir(root, `clean-${sink}`, data);
    const home = join(cwd, ".s");
    const r = runCli("node", ["run", fixture, "--quiet", "--home", home], {
      cwd,
      env: { ...FIXED, SLUICE_DLQ_SINK: sink },
    });
    expect(r.code, r.stderr).toBe(0);
    const [runId] = readdirSync(join(home, "dlq"));
    clean[sink] = {
      out: sink === "ndjson" ? sortedLines(cwd) : await sortedRows(cwd),
      dead: fileLetterKeys(join(home, "dlq", runId)),
    };
  }
}, 120_000);

describe.concurrent("kill -9 during a redrive, then resume", () => {
  for (const { runtime, sink } of cases) {
    it(`${runtime}, ${sink}: 2 SIGKILLs mid-redrive, resumed, end as an uninterrupted redrive`, async () => {
      const cwd = workdir(root, `${runtime}-${sink}`, data);
      const home = join(cwd, ".s");
      const env = { SLUICE_DLQ_SINK: sink };
      const first = runCli("node", ["run", fixture, "--quiet", "--home", home], { cwd, env });
      expect(first.code, first.stderr).toBe(0);
      const slowEnv = { ...env, ...FIXED, SLUICE_DLQ_DELAY: "600" }; // ~12 s of redrive: room for a loaded machine before the kill
      const rand = prng(runtime === "node" ? 5 : 6);

      const child = start(runtime, ["redrive", "dlq", "--pipeline", fixture, "--quiet", "--home", home], {
        cwd,
        env: slowEnv,
      });
      await waitUntil(() => child.done() || journalBytes(redriveDir(home) ?? "/nonexistent") > 0, 60_000);
      await sleep(200 + Math.floor(rand() * 600));
      if (child.done())
        expect.fail(`${runtime} finished the redrive before the kill: ${(await child.exited).stderr}`);
      child.proc.kill("SIGKILL");
      await child.exited;
      const dir = redriveDir(home) as string;
      const redriveId = basename(dir);

      // Unfinished: shown pending, and a second redrive is refused.
      const q = JSON.parse(runCli(runtime, ["dlq", "dlq", "--json", "--home", home], { cwd }).stdout);
      expect(q.pending).toEqual([{ runId: redriveId, status: "crashed" }]);
      const refused = runCli(runtime, ["redrive", "dlq", "--pipeline", fixture, "--home", home], {
        cwd,
        env: slowEnv,
      });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`sluice resume ${redriveId}`);
      // `sluice run` of the pipeline does not take the redrive for its own crashed run.
      expect((await listRuns(home, "dlq")).filter((r) => r.status === "crashed").map((r) => r.runId)).toEqual(
        [redriveId],
      );

      // Resume, and kill once more after its next checkpoint.
      const before = journalBytes(dir);
      const again = start(runtime, ["resume", redriveId, "--quiet", "--home", home], { cwd, env: slowEnv });
      await waitUntil(() => again.done() || journalBytes(dir) > before, 60_000);
      await sleep(Math.floor(rand() * 300));
      if (again.done())
        expect.fail(
          `${runtime} finished the resumed redrive before the kill: ${(await again.exited).stderr}`,
        );
      again.proc.kill("SIGKILL");
      await again.exited;

      const done = runCli(runtime, ["resume", redriveId, "--home", home], { cwd, env: { ...env, ...FIXED } });
      expect(done.code, done.stderr).toBe(0);
      expect(done.stderr, done.stdout).toMatch(/resuming run \S+ from checkpoint \d+/);
      expect(done.stdout).toContain("35 went through · 5 still dead");

      expect(sink === "ndjson" ? sortedLines(cwd) : await sortedRows(cwd)).toEqual(clean[sink].out);
      const letters = shownLetters(
        runCli(runtime, ["dlq", "show", "dlq", "--json", "--home", home], { cwd }).stdout,
      );
      expect(letters.map(letterKey).sort()).toEqual(clean[sink].dead);
      const after = JSON.parse(runCli(runtime, ["dlq", "dlq", "--json", "--home", home], { cwd }).stdout);
      expect(after.counts).toEqual({ total: 40, redriven: 35, dead: 5 });
      expect(after.pending).toEqual([]);
    }, 300_000);
  }
});
