/**
 * Ctrl-C and changed definitions, through the CLI:
 * - one SIGINT stops reading, takes a last checkpoint, exits 130 with the run
 *   `interrupted`; `sluice run` again resumes it to the uninterrupted output;
 * - a second SIGINT exits at once; the run resumes from its last durable
 *   checkpoint all the same;
 * - a pipeline whose definition changed since the checkpoint is refused with
 *   what to do; `--fresh` starts a new run.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listRuns } from "../../src/journal/runs.ts";
import { ensureOrdersCsv } from "../../src/testing/generate.ts";
import {
  fixture,
  journalBytes,
  latestRun,
  outputHash,
  run,
  sleep,
  start,
  tempRoot,
  waitUntil,
  workdir,
} from "./run-helpers.ts";

const root = tempRoot("sluice-sigint-");
const data = join(root, "data");
afterAll(() => rmSync(root, { recursive: true, force: true }));
const env = { SLUICE_TEST_ROWS: "20000", SLUICE_TEST_CP: "20", SLUICE_TEST_DELAY: "150" }; // ~2.6 s
let reference = "";

beforeAll(async () => {
  await ensureOrdersCsv(join(data, "orders-20000.csv"), { rows: 20_000, seed: 11, badEvery: 997 });
  const cwd = workdir(root, "ref", data);
  const r = await run("node", ["run", fixture, "--quiet", "--home", join(cwd, ".s")], {
    cwd,
    env: { ...env, SLUICE_TEST_DELAY: "0" },
  });
  expect(r.code, r.stderr).toBe(0);
  reference = await outputHash(cwd, "ndjson");
}, 60_000);

/** Starts a run and waits until it has made a checkpoint durable. */
async function startedRun(cwd: string, home: string) {
  const child = start("node", ["run", fixture, "--home", home], { cwd, env });
  expect(await waitUntil(() => child.done() || journalBytes(home) > 0, 60_000)).toBe(true);
  expect(child.done(), "the run ended before it could be interrupted").toBe(false);
  return child;
}

describe.concurrent("Ctrl-C", () => {
  it("one SIGINT: last checkpoint, exit 130, `interrupted`; run again resumes to the same output", async () => {
    const cwd = workdir(root, "once", data);
    const home = join(cwd, ".s");
    const child = await startedRun(cwd, home);
    child.proc.kill("SIGINT");
    const r = await child.exited;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain("stopping — finishing in-flight chunks and taking a checkpoint");
    expect(r.stdout).toMatch(/◼ faults interrupted in .* \(run (\S+)\)/);
    expect(r.stdout).toContain("resume with: sluice run <same file>");
    expect(existsSync(join(cwd, "out/orders.ndjson"))).toBe(false); // nothing partial is published
    const info = await latestRun(home);
    expect(info?.status).toBe("interrupted");
    expect(info?.resumable).toBe(true);

    const again = await run("node", ["run", fixture, "--home", home], { cwd, env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(
      new RegExp(
        `resuming run ${info?.runId} from checkpoint ${info?.checkpoint?.id} \\(source offset byte [\\d,]+, line [\\d,]+; [\\d,]+ rows in\\)`,
      ),
    );
    expect(await outputHash(cwd, "ndjson")).toBe(reference);
  }, 120_000);

  it("a second SIGINT exits at once; resume still gives the same output", async () => {
    const cwd = workdir(root, "twice", data);
    const home = join(cwd, ".s");
    const child = await startedRun(cwd, home);
    child.proc.kill("SIGINT");
    await sleep(5);
    child.proc.kill("SIGINT");
    const r = await child.exited;
    expect(r.code).toBe(130);
    const info = await latestRun(home);
    expect(info?.resumable).toBe(true);

    const again = await run("node", ["run", fixture, "--home", home], { cwd, env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`resuming run ${info?.runId}`);
    expect(await outputHash(cwd, "ndjson")).toBe(reference);
  }, 120_000);
});

describe("changed pipeline definition", () => {
  it("is refused with what to do; --fresh starts a new run", async () => {
    const cwd = workdir(root, "changed", data);
    const home = join(cwd, ".s");
    const crashed = await run("node", ["run", fixture, "--quiet", "--home", home], {
      cwd,
      env: { ...env, SLUICE_FAULT: "after-checkpoint@2" },
    });
    expect(crashed.signal).toBe("SIGKILL");
    const old = await latestRun(home);

    const changed = { ...env, SLUICE_TEST_EXTRA: "1" };
    const refused = await run("node", ["run", fixture, "--home", home], { cwd, env: changed });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `StateError: pipeline "faults" changed since run ${old?.runId} was checkpointed: definition \\w+ then, \\w+ now`,
      ),
    );
    expect(refused.stderr).toContain("Resume with the old definition");
    expect(refused.stderr).toContain("--fresh");
    expect((await latestRun(home))?.status).toBe("crashed"); // untouched

    const fresh = await run("node", ["run", fixture, "--fresh", "--home", home], { cwd, env: changed });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stderr).not.toContain("resuming");
    const runs = await listRuns(home);
    expect(runs.map((r) => r.status)).toEqual(["crashed", "completed"]);
    expect(await outputHash(cwd, "ndjson")).toBe(reference); // the extra stage is an identity map
  }, 120_000);
});
