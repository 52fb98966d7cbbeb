/**
 * Many processes on one state directory (DESIGN §4): runs write only their
 * own journals, and the first reader catches the metrics store up on all of
 * them. After 50 runs — 20 at once, 5 of those killed with SIGKILL mid-run,
 * then 30 one after another — `sluice sql` counts every run whose journal
 * holds events, each once (a run killed before its journal wrote anything
 * holds none), and completed runs with their full figures.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listRuns, readRunEvents } from "../../src/journal/runs.ts";
import { fixture, sleep, start } from "../faults/run-helpers.ts";
import { runCli } from "../helpers/runtimes.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-many-runs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const home = join(dir, ".sluice");
const env = { SLUICE_HOME: home, SLUICE_TEST_ROWS: "4000" };

describe("50 runs on one SLUICE_HOME", () => {
  it("every journaled run reaches the runs view once, killed ones included", async () => {
    // Make the input once, before the concurrent runs race to write it.
    const first = runCli("node", ["run", fixture, "--fresh", "--quiet"], { cwd: dir, env });
    expect(first.code, first.stderr).toBe(0);

    // Five slow runs (80 s each) are killed with SIGKILL once they have journaled and the
    // fifteen fast ones running beside them have finished.
    const slow = Array.from({ length: 5 }, () =>
      start("node", ["run", fixture, "--fresh", "--quiet"], {
        cwd: dir,
        env: { ...env, SLUICE_TEST_DELAY: "20000" },
      }),
    );
    const journaledAtLeast = async (n: number) => {
      for (let t = 0; t < 600; t++) {
        if ((await listRuns(home, "faults")).filter((r) => r.status === "running").length >= n) return;
        await sleep(100);
      }
      throw new Error(`fewer than ${n} live runs after 60 s`);
    };
    await journaledAtLeast(5);
    const fast = Array.from({ length: 15 }, () =>
      start("node", ["run", fixture, "--fresh", "--quiet"], { cwd: dir, env }),
    );
    const exits = await Promise.all(fast.map((s) => s.exited));
    for (const e of exits) expect(e.code, e.stderr).toBe(0);
    for (const s of slow) expect(s.done(), "a slow run ended before it was killed").toBe(false);
    for (const s of slow) s.proc.kill("SIGKILL");
    await Promise.all(slow.map((s) => s.exited));

    for (let i = 0; i < 29; i++) {
      const r = runCli("node", ["run", fixture, "--fresh", "--quiet"], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(0);
    }

    const journaled = await listRuns(home, "faults");
    expect(journaled.length).toBe(50);
    expect(journaled.filter((r) => r.status === "completed").length).toBe(45);

    // A run killed before its journal wrote anything (events are written in batches and
    // made durable at checkpoints) holds no events: every run whose journal holds any is counted.
    let held = 0;
    for (const r of journaled) {
      for await (const _ of readRunEvents(r.runDir)) {
        held++;
        break;
      }
    }
    expect(held).toBeGreaterThanOrEqual(45);
    const sql = runCli(
      "node",
      ["sql", "SELECT count(*) AS n, count(DISTINCT run_id) AS d FROM runs", "--json"],
      {
        cwd: dir,
        env,
      },
    );
    expect(sql.code, sql.stderr).toBe(0);
    expect(JSON.parse(sql.stdout)).toEqual([{ n: held, d: held }]);

    // Completed runs are counted with their full figures; nothing doubled by a second reader.
    const again = runCli(
      "node",
      [
        "sql",
        "SELECT count(*) AS runs, sum(rows_in) AS rows_in, (SELECT count(*) - count(DISTINCT (run_id, seq)) FROM events) AS dup FROM runs WHERE status = 'completed'",
        "--json",
      ],
      { cwd: dir, env },
    );
    expect(again.code, again.stderr).toBe(0);
    const [row] = JSON.parse(again.stdout) as Array<{ runs: number; rows_in: number; dup: number }>;
    const completed = journaled.filter((r) => r.status === "completed").length;
    expect(row).toEqual({ runs: completed, rows_in: completed * 4000, dup: 0 });
  }, 600_000);
});
