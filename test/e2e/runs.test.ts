/** `sluice runs`, `events`, `replay` and `resume` as a user meets them. */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureOrdersCsv } from "../../src/testing/generate.ts";
import {
  fixture,
  journalBytes,
  outputHash,
  run,
  start,
  tempRoot,
  waitUntil,
  workdir,
} from "../faults/run-helpers.ts";

const root = tempRoot("sluice-runs-");
const data = join(root, "data");
afterAll(() => rmSync(root, { recursive: true, force: true }));
const env = { SLUICE_TEST_ROWS: "20000", SLUICE_TEST_CP: "20" };
const summaryLine = (text: string) =>
  /rows in [\d,]+ · out [\d,]+ · filtered [\d,]+ · dead-lettered [\d,]+/.exec(text)?.[0];
const runIdOf = (text: string) => /\(run (\d{8}T\d{9}Z-[0-9a-f]+)/.exec(text)?.[1];

beforeAll(async () => {
  await ensureOrdersCsv(join(data, "orders-20000.csv"), { rows: 20_000, seed: 11, badEvery: 997 });
});

/** `sluice events --json` output as events, checked to run from `run.started` to `run.ended`. */
function wholeRun(stdout: string): Array<{ kind: string }> {
  const evs = stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { kind: string });
  expect(evs[0].kind).toBe("run.started");
  expect(evs.at(-1)?.kind).toBe("run.ended");
  return evs;
}

/** The fixture run to completion in a fresh working directory (`name`), state in its `.s`. */
async function completedRun(name: string) {
  const cwd = workdir(root, name, data);
  const home = join(cwd, ".s");
  const r = await run("node", ["run", fixture, "--home", home], { cwd, env });
  expect(r.code, r.stderr).toBe(0);
  return { cwd, home, r, id: runIdOf(r.stdout) as string };
}

describe.concurrent("sluice runs / events / replay / resume", () => {
  it("lists a completed run, prints its journal, and replays the live summary", async () => {
    const { cwd, home, r, id } = await completedRun("done");
    const checkpoints = Number(/(\d+) checkpoints/.exec(r.stdout)?.[1]);

    const runs = await run("node", ["runs", "--home", home], { cwd });
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout).toMatch(/^RUN\s+PIPELINE\s+STATUS\s+ROWS IN\s+PROGRESS\s+LAST CHECKPOINT$/m);
    expect(runs.stdout).toMatch(
      new RegExp(`^${id}\\s+faults\\s+completed\\s+20,000\\s+100%\\s+#${checkpoints} `, "m"),
    );
    const json = await run("node", ["runs", "faults", "--json", "--home", home], { cwd });
    expect(JSON.parse(json.stdout.trim())).toMatchObject({
      runId: id,
      status: "completed",
      resumable: false,
    });

    const events = await run("node", ["events", id, "--json", "--home", home], { cwd });
    expect(events.code, events.stderr).toBe(0);
    const evs = wholeRun(events.stdout);
    expect(evs.filter((e) => e.kind === "checkpoint")).toHaveLength(checkpoints);
    const only = await run(
      "node",
      ["events", id.slice(-6), "--kind", "checkpoint", "--kind", "run.ended", "--home", home],
      { cwd },
    );
    const lines = only.stdout.trim().split("\n");
    expect(lines).toHaveLength(checkpoints + 1);
    expect(lines.every((l) => /^\S+Z {2}(checkpoint|run\.ended) /.test(l))).toBe(true);
    const bad = await run("node", ["events", id, "--kind", "nope", "--home", home], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown kind "nope"');

    const replay = await run("node", ["replay", id, "--home", home], { cwd });
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout).toMatch(
      /✔ faults completed \(run \S+, 1 attempt; replayed from [\d,]+ journaled events\)/,
    );
    expect(summaryLine(replay.stdout)).toBe(summaryLine(r.stdout));
    expect(replay.stdout).toMatch(/^ {2}3:dedupe +[\d,]+ +[\d,]+ +[\d,]+ +0$/m);
  }, 120_000);

  it("events and replay of a journal with damaged bytes: a warning, and the other events", async () => {
    const { cwd, home, id } = await completedRun("damaged");
    const dir = join(home, "faults", id, "journal");
    const seg = join(dir, readdirSync(dir).filter((f) => f.endsWith(".seg"))[0]);
    const bytes = readFileSync(seg);
    const mid = bytes.length >> 1;
    for (let i = mid; i < mid + 8; i++) bytes[i] ^= 0xff;
    writeFileSync(seg, bytes);
    const events = await run("node", ["events", id, "--json", "--home", home], { cwd });
    expect(events.code, events.stderr).toBe(0);
    expect(events.stderr).toMatch(
      /^sluice: warning: Journal segment .* is corrupt at byte offset \d+.*The other events are shown\.$/m,
    );
    wholeRun(events.stdout);
    const replay = await run("node", ["replay", id, "--home", home], { cwd });
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stderr).toContain("The run is replayed from the other events.");
    expect(replay.stdout).toMatch(/✔ faults completed/);
  }, 120_000);

  it("shows a crashed run as resumable; `sluice resume` from elsewhere continues it where it started", async () => {
    const cwd = workdir(root, "crashed", data);
    const home = join(cwd, ".s");
    const ref = workdir(root, "crashed-ref", data);
    expect(
      (await run("node", ["run", fixture, "--quiet", "--home", join(ref, ".s")], { cwd: ref, env })).code,
    ).toBe(0);

    const crashed = await run("node", ["run", fixture, "--home", home], {
      cwd,
      env: { ...env, SLUICE_FAULT: "after-checkpoint@3" },
    });
    expect(crashed.signal).toBe("SIGKILL");
    const runs = await run("node", ["runs", "--home", home], { cwd });
    const id = /^(\d{8}T\d{9}Z-[0-9a-f]+)\s/m.exec(runs.stdout)?.[1] ?? "";
    expect(runs.stdout).toMatch(
      new RegExp(`^${id}\\s+faults\\s+crashed \\(resumable\\)\\s+[\\d,]+\\s+[\\d.]+%\\s+#3 `, "m"),
    );

    const resumed = await run("node", ["resume", id.slice(-6), "--home", home], { cwd: root, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`resuming run ${id} from checkpoint 3 \\(source offset byte`));
    expect(await outputHash(cwd, "ndjson")).toBe(await outputHash(ref, "ndjson"));
    const replay = await run("node", ["replay", id, "--home", home], { cwd });
    expect(replay.stdout).toContain("2 attempts");
    expect(summaryLine(replay.stdout)).toBe(summaryLine(resumed.stdout));

    const again = await run("node", ["resume", id, "--home", home], { cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already completed; there is nothing to resume/);
    const unknown = await run("node", ["resume", "nope", "--home", home], { cwd });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no run or pipeline "nope" under .*\n.*sluice runs/);
  }, 120_000);

  it("while a run is going, shows it running and refuses a second writer", async () => {
    const cwd = workdir(root, "live", data);
    const home = join(cwd, ".s");
    const slow = { ...env, SLUICE_TEST_DELAY: "7000" }; // ~2 min: it must outlive the commands below
    const child = start("node", ["run", fixture, "--quiet", "--home", home], { cwd, env: slow });
    try {
      expect(await waitUntil(() => child.done() || journalBytes(home) > 0, 60_000)).toBe(true);
      const runs = await run("node", ["runs", "--home", home], { cwd });
      expect(runs.stdout).toContain(`running (pid ${child.proc.pid})`);
      const id = /^(\d{8}T\d{9}Z-[0-9a-f]+)\s/m.exec(runs.stdout)?.[1] ?? "";
      const second = await run("node", ["run", fixture, "--home", home], { cwd, env: slow });
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(
        new RegExp(`run ${id} of pipeline "faults" is still running \\(process ${child.proc.pid}`),
      );
      const resume = await run("node", ["resume", id, "--home", home], { cwd, env: slow });
      expect(resume.code).toBe(1);
      expect(resume.stderr).toContain("is still running");
      child.proc.kill("SIGKILL");
      await child.exited;
      const after = await run("node", ["runs", "--home", home], { cwd });
      expect(after.stdout).toMatch(new RegExp(`^${id}\\s+faults\\s+crashed \\(resumable\\)`, "m"));
    } finally {
      child.proc.kill("SIGKILL");
    }
  }, 120_000);
});
