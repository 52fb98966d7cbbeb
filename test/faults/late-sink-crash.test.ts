/**
 * A window's `late` sink at the crash points that matter (SLUICE_FAULT, see
 * crash-points.test.ts), each followed by a plain `sluice run` that resumes:
 *
 * - after-sink-commit@3: the main and late sinks committed checkpoint 3 but
 *   it never reached the journal — both go back to checkpoint 2;
 * - after-checkpoint@3: checkpoint 3 is durable; late records after it were
 *   cut but not written;
 * - before-sink-close: the final checkpoint is durable, neither file renamed;
 * - before-run-ended: both files renamed, the run not marked ended.
 *
 * Each must end with exactly the uninterrupted run's orders and late files.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureOrdersCsv } from "../../src/testing/generate.ts";
import { repo } from "../helpers/runtimes.ts";
import { latestRun, run, sha, tempRoot, workdir } from "./run-helpers.ts";

const fixture = join(repo, "test/fixtures/pipelines/windowed.ts");
const root = tempRoot("sluice-late-crash-");
const data = join(root, "data");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const env = { SLUICE_TEST_ROWS: "20000", SLUICE_TEST_LATE: "sink", SLUICE_TEST_DELAY: "20" };
const reference = { orders: "", late: "", lines: 0 };

beforeAll(async () => {
  await ensureOrdersCsv(join(data, "orders-20000.csv"), { rows: 20_000, seed: 11, badEvery: 997 });
  const cwd = workdir(root, "ref", data);
  const r = await run("node", ["run", fixture, "--quiet", "--home", join(cwd, ".s")], {
    cwd,
    env: { ...env, SLUICE_TEST_DELAY: "0" },
  });
  expect(r.code, r.stderr).toBe(0);
  reference.orders = sha(join(cwd, "out/orders.ndjson"));
  reference.late = sha(join(cwd, "out/late.ndjson"));
  reference.lines = readFileSync(join(cwd, "out/late.ndjson"), "utf8").trim().split("\n").length;
}, 120_000);

const faults = ["after-sink-commit@3", "after-checkpoint@3", "before-sink-close", "before-run-ended"];

describe.concurrent("the late sink at crash points", () => {
  for (const fault of faults) {
    it(`crash at ${fault}, then resume → the uninterrupted orders and late files`, async () => {
      const cwd = workdir(root, fault.replace(/@/, "-"), data);
      const home = join(cwd, ".s");
      const crashed = await run("node", ["run", fixture, "--quiet", "--home", home], {
        cwd,
        env: { ...env, SLUICE_FAULT: fault },
      });
      expect(crashed.signal, `did not crash at ${fault}: ${crashed.stderr}`).toBe("SIGKILL");
      const before = await latestRun(home);
      expect(before?.status).toBe("crashed");
      if (fault === "after-sink-commit@3") expect(before?.checkpoint?.id).toBe(2);
      if (fault === "before-sink-close") expect(existsSync(join(cwd, "out/late.ndjson"))).toBe(false);
      if (fault === "before-run-ended") expect(existsSync(join(cwd, "out/late.ndjson"))).toBe(true);

      const resumed = await run("node", ["run", fixture, "--home", home], { cwd, env });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toContain(`resuming run ${before?.runId}`);
      expect(sha(join(cwd, "out/orders.ndjson"))).toBe(reference.orders);
      expect(sha(join(cwd, "out/late.ndjson"))).toBe(reference.late);
      expect(resumed.stdout).toContain(
        `late (3:window.tumbling): ${reference.lines.toLocaleString("en-US")} → `,
      );
      expect((await latestRun(home))?.status).toBe("completed");
    }, 120_000);
  }
});
