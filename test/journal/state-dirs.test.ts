/**
 * A state directory that holds what a run cannot use as a pipeline's directory: another user's
 * pipeline directory (listed as not listable, the others read) and a file in its place (a
 * `StateError` with a hint, not a bare ENOTDIR).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pipeline } from "../../src/index.ts";
import { runJournaled } from "../../src/journal/run-journal.ts";
import { findRun, listRuns } from "../../src/journal/runs.ts";
import { openCaughtUp } from "../../src/metrics/catch-up.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-statedirs-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshHome = () => join(root, `t${++n}`, ".s");
const small = () =>
  pipeline("dd")
    .from(iterable([1, 2, 3]))
    .to(collect());

describe("pipeline directories a run cannot use", () => {
  it("one that cannot be listed is named, with a hint; the other pipelines' runs are read", async () => {
    const home = freshHome();
    const ok = await runJournaled(small(), { home, sampleResources: false });
    // Stands in for another user's pipeline directory (mode 0700), which root, running the tests,
    // could list: a symbolic link loop cannot be stat'ed by anyone (ELOOP).
    symlinkSync(join(home, "theirs-b"), join(home, "theirs"));
    symlinkSync(join(home, "theirs"), join(home, "theirs-b"));
    const unlisted: string[] = [];
    const runs = await listRuns(home, undefined, {
      onUnreadable: (e) => unlisted.push(`${e.message} | ${e.hint}`),
    });
    expect(runs.map((r) => r.runId)).toEqual([ok.runId]);
    expect(unlisted).toEqual([
      expect.stringMatching(/^the runs of pipeline "theirs" cannot be listed \(.*\): .*ELOOP.* \| .*--home/),
      expect.stringMatching(/^the runs of pipeline "theirs-b" cannot be listed/),
    ]);
    await expect(listRuns(home, "theirs")).rejects.toMatchObject({
      _tag: "StateError",
      message: expect.stringMatching(/pipeline "theirs" cannot be listed/),
    });
    await expect(findRun(home, "nothing-here")).rejects.toMatchObject({
      hint: expect.stringMatching(/Not searched: the runs of pipeline "theirs" cannot be listed/),
    });
    const warnings: string[] = [];
    const { store } = await openCaughtUp(home, { onWarning: (m) => warnings.push(m) });
    try {
      expect(warnings).toEqual([
        expect.stringMatching(/pipeline "theirs" cannot be listed.*not in the metrics store/),
        expect.stringMatching(/pipeline "theirs-b" cannot be listed/),
      ]);
      expect((await store.query("SELECT run_id FROM runs")).rows).toEqual([{ run_id: ok.runId }]);
    } finally {
      await store.close();
    }
  });

  it("a file in its place is a StateError with a hint, not a bare ENOTDIR", async () => {
    const home = freshHome();
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "dd"), "");
    await expect(runJournaled(small(), { home, sampleResources: false })).rejects.toMatchObject({
      _tag: "StateError",
      message: expect.stringMatching(/cannot create the run directory/),
      hint: expect.stringMatching(/this path is a file, or goes through one/),
    });
  });
});
