/**
 * Issue 16 item 6 as a user meets it, on node, bun and deno: SIGTERM to
 * `sluice run` while a parallelMap worker busy-loops ends the process at the
 * drain deadline (2 s in the fixture) with a clear message; the next
 * `sluice run` resumes and completes with every record exactly once.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { available, type RuntimeName, repo } from "../helpers/runtimes.ts";
import { requireTool } from "../helpers/tools.ts";
import { run, start, tempRoot, waitUntil } from "./run-helpers.ts";

const root = tempRoot("sluice-drain-");
afterAll(() => rmSync(root, { recursive: true, force: true }));
const file = join(repo, "test/fixtures/pipelines/drain.ts");

describe.each(["node", "bun", "deno"] as const)("drain deadline on %s", (runtime: RuntimeName) => {
  it("SIGTERM with a busy-looping worker: exit at the deadline with the reason; the next run completes", async (ctx) => {
    requireTool(ctx, available(runtime), runtime, "npm install (bun and deno are dev dependencies)");
    const cwd = join(root, runtime);
    const hang = join(root, `${runtime}.hang`);
    writeFileSync(hang, "");
    const env = { SLUICE_TEST_HANG: hang, SLUICE_METRICS: "off" };
    const first = start(runtime, ["run", file, "--home", join(cwd, ".s")], { cwd: root, env });
    expect(await waitUntil(() => existsSync(`${hang}.reached`) || first.done(), 60_000)).toBe(true);
    expect(first.done()).toBe(false);
    rmSync(hang);
    first.proc.kill("SIGTERM");
    // Bounded: the deadline is 2 s; 60 s means it never came (it used to wait for ever).
    const ended = await Promise.race([first.exited, new Promise<undefined>((r) => setTimeout(r, 60_000))]);
    if (!ended) first.proc.kill("SIGKILL");
    expect(ended, "sluice run did not exit after SIGTERM").toBeDefined();
    expect(ended!.code, ended!.stderr).toBe(1);
    expect(ended!.stderr).toMatch(
      /CancelledError: stage \S*parallelMap: \d+ chunk\(s\) \(\d+ records\) were still on workers 2000 ms after the stop request/,
    );
    expect(ended!.stderr).toMatch(/resumes from its last checkpoint/);
    expect(ended!.stderr).not.toMatch(/^\s+at /m);

    const second = await run(runtime, ["run", file, "--home", join(cwd, ".s")], { cwd: root, env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/resuming run \S+ from checkpoint \d+/);
    expect(second.stdout).toMatch(/rows in 100 · out 100 · filtered 0 · dead-lettered 0/);
    const out = readFileSync(join(root, "out/drain.ndjson"), "utf8").trim().split("\n").map(Number);
    expect(out).toEqual(Array.from({ length: 100 }, (_, v) => v * 2));
    rmSync(join(root, "out"), { recursive: true, force: true });
  }, 180_000);
});
