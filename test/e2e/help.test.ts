/**
 * Every subcommand answers `--help` and `-h` with its usage, options and an
 * example (exit 0), and `events` / `replay` take a pipeline name for its
 * latest run, as `runs` does — on node, bun and deno (issue 15 items 6, 7).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { available, type RuntimeName, repo, runCli } from "../helpers/runtimes.ts";

const runtimes: RuntimeName[] = ["node", "bun", "deno"];
const root = mkdtempSync(join(tmpdir(), "sluice-help-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const COMMANDS = ["run", "resume", "runs", "events", "replay", "metrics", "sql", "serve", "dlq", "redrive"];

describe.each(runtimes)("on %s", (rt) => {
  it(`${rt} is installed (npm install brings all three runtimes)`, () => {
    expect(available(rt), `${rt} binary missing under node_modules/.bin — run npm install`).toBe(true);
  });

  it.each(COMMANDS)("sluice %s --help and -h print its usage, options and an example", (cmd) => {
    for (const flag of ["--help", "-h"]) {
      const r = runCli(rt, [cmd, flag]);
      expect(r.stderr, `${cmd} ${flag}`).toBe("");
      expect(r.code, `${cmd} ${flag}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: sluice ${cmd} `));
      expect(r.stdout).toContain("Options:");
      expect(r.stdout).toMatch(new RegExp(`Example:\\n {2}sluice ${cmd}`));
    }
    // Help wins over what else is on the line, even a mistake.
    const mixed = runCli(rt, [cmd, "--frobnicate", "-h"]);
    expect(mixed.code).toBe(0);
    expect(mixed.stdout).toMatch(new RegExp(`^Usage: sluice ${cmd} `));
  });

  it("`run --help` documents --keep-serving; `sluice help events` is `sluice events --help`", () => {
    expect(runCli(rt, ["run", "--help"]).stdout).toContain("--keep-serving");
    expect(runCli(rt, ["help", "events"]).stdout).toBe(runCli(rt, ["events", "--help"]).stdout);
  });

  it("events and replay take a pipeline name: its latest run", () => {
    const cwd = mkdtempSync(join(root, `${rt}-`));
    const home = join(cwd, ".s");
    const pipelineFile = join(repo, "test/fixtures/pipelines/tiny.ts");
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = runCli(rt, ["run", pipelineFile, "--fresh", "--home", home], { cwd });
      expect(r.code, r.stderr).toBe(0);
      ids.push(/\(run (\S+)\)/.exec(r.stdout)![1]);
    }
    expect(ids[0]).not.toBe(ids[1]);
    const byName = runCli(rt, ["events", "tiny", "--kind", "run.started", "--json", "--home", home], {
      cwd,
    });
    expect(byName.code, byName.stderr).toBe(0);
    expect(JSON.parse(byName.stdout.trim()).runId).toBe(ids[1]);
    const byId = runCli(rt, ["events", ids[1], "--kind", "run.started", "--json", "--home", home], { cwd });
    expect(byName.stdout).toBe(byId.stdout);
    const replayName = runCli(rt, ["replay", "tiny", "--json", "--home", home], { cwd });
    expect(replayName.code, replayName.stderr).toBe(0);
    expect(JSON.parse(replayName.stdout).runId).toBe(ids[1]);
    expect(replayName.stdout).toBe(runCli(rt, ["replay", ids[1], "--json", "--home", home], { cwd }).stdout);
    const unknown = runCli(rt, ["replay", "no-such-pipeline", "--home", home], { cwd });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no run or pipeline "no-such-pipeline"');
  }, 120_000);
});
