/**
 * Issue 16 item 5: a state directory that cannot be created and a run
 * directory deleted mid-run are clear `StateError`s (what, where, what to do),
 * never a bare `ENOENT: mkdir` or an exit 0 with no journal left.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Operator, OperatorTypeId, pipeline, runJournaled } from "../../src/index.ts";
import { listRunRefs } from "../../src/journal/runs.ts";
import { DeadLetterFile } from "../../src/pipeline/internal/dead-letter.ts";
import { stateHome } from "../../src/pipeline/run.ts";
import { ndjson } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";
import { available, repo, runCli } from "../helpers/runtimes.ts";
import { requireTool } from "../helpers/tools.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-state-dir-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Deletes the run's directory when its `at`-th chunk passes. */
const deleteRunDir = (at: number): Operator<number, number> => ({
  [OperatorTypeId]: true,
  name: "delete-run-dir",
  cardinality: "one",
  make: (ctx) => {
    let n = 0;
    return {
      type: "chunk",
      process: (records) => {
        if (++n === at) rmSync(ctx.runDir, { recursive: true, force: true });
        return records;
      },
    };
  },
});

describe("state directory names", () => {
  it("an empty SLUICE_HOME is unset: state goes to ./.sluice, not the working directory", () => {
    const before = process.env.SLUICE_HOME;
    process.env.SLUICE_HOME = "";
    try {
      expect(stateHome()).toBe(join(process.cwd(), ".sluice"));
      expect(stateHome("")).toBe(join(process.cwd(), ".sluice"));
    } finally {
      if (before === undefined) delete process.env.SLUICE_HOME;
      else process.env.SLUICE_HOME = before;
    }
  });

  it("refuses a pipeline named as the metrics store's file", () => {
    for (const name of ["metrics.duckdb", "metrics.duckdb.wal"])
      expect(() => pipeline(name)).toThrow(/is the metrics store's file in the state directory/);
    expect(pipeline("metrics").name).toBe("metrics");
  });
});

describe("state directory errors", () => {
  it("a state directory through a file: readers say it cannot be reached, not a bare ENOTDIR", async () => {
    const file = join(root, "a-file");
    writeFileSync(file, "");
    await expect(listRunRefs(join(file, "sub"))).rejects.toMatchObject({
      _tag: "StateError",
      message: expect.stringMatching(/^the state directory .*a-file\/sub cannot be reached: .*ENOTDIR/),
    });
  });

  it("a dead-letter file that cannot be written is a StateError naming it (not the stage committing)", async () => {
    const file = new DeadLetterFile(join(root, "no-such-dir", "dead-letter.ndjson"));
    file.add(
      {
        kind: "dead.letter",
        ts: 0,
        runId: "r",
        pipeline: "p",
        stage: "s",
        reason: "bad",
        attempts: 1,
        position: {},
      },
      undefined,
    );
    await expect(file.flush(true)).rejects.toMatchObject({
      _tag: "StateError",
      message: expect.stringMatching(/^could not write the dead-letter file .*no-such-dir.*ENOENT/),
      hint: expect.stringContaining("Free space on its device"),
    });
  });

  it("a run directory deleted mid-run fails the run with a StateError naming it", async () => {
    const home = join(root, "deleted");
    const p = pipeline("deleted-mid-run", { checkpoint: { every: "1h", rows: 100 } })
      .from(
        iterable(
          Array.from({ length: 1000 }, (_, i) => i),
          { chunkSize: 50 },
        ),
      )
      .via(deleteRunDir(4))
      .to(ndjson(join(root, "deleted-out.ndjson")));
    const summary = await runJournaled(p, { home });
    expect(summary.status).toBe("failed");
    expect(summary.error?._tag).toBe("StateError");
    expect(summary.error?.message).toMatch(
      /its directory .*deleted-mid-run.* was deleted while the run was going/,
    );
    expect(summary.error?.hint).toMatch(/--fresh/);
  });

  it("a state directory that cannot be created: which one, why, and the fix", async () => {
    const file = join(root, "a-file");
    writeFileSync(file, "not a directory");
    const p = pipeline("unwritable")
      .from(iterable([1, 2, 3]))
      .to(ndjson(join(root, "unwritable-out.ndjson")));
    const e = await runJournaled(p, { home: join(file, "home") }).catch((x: unknown) => x);
    expect((e as { _tag?: string })._tag).toBe("StateError");
    expect((e as Error).message).toMatch(/cannot create the state directory .*a-file\/home: .*ENOTDIR/);
    expect((e as { hint?: string }).hint).toMatch(/set SLUICE_HOME or pass --home to a writable directory/);
  });

  describe.each(["node", "bun", "deno"] as const)("sluice run on %s", (runtime) => {
    it("with SLUICE_HOME where nothing can be created: exit 1, one message that says what to do", (ctx) => {
      requireTool(ctx, available(runtime), runtime, "npm install (bun and deno are dev dependencies)");
      const cwd = mkdtempSync(join(root, `cli-${runtime}-`));
      const home = join(cwd, "file-not-dir", "home");
      writeFileSync(join(cwd, "file-not-dir"), "x");
      const r = runCli(runtime, ["run", join(repo, "test/conformance/pipelines/orders.ts")], {
        cwd,
        env: { SLUICE_HOME: home, SLUICE_METRICS: "off" },
      });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(
        /StateError: cannot create the state directory .*file-not-dir\/home: .*ENOTDIR/,
      );
      expect(r.stderr).toMatch(/set SLUICE_HOME or pass --home to a writable directory/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    });

    it("readers (runs, sql, metrics) with SLUICE_HOME a file: exit 1, the state directory is a file, not a directory", (ctx) => {
      requireTool(ctx, available(runtime), runtime, "npm install (bun and deno are dev dependencies)");
      const cwd = mkdtempSync(join(root, `readers-${runtime}-`));
      writeFileSync(join(cwd, "home-file"), "x");
      for (const args of [["runs"], ["sql", "SELECT 1"], ["metrics"], ["metrics", "--keep", "7d"]]) {
        const r = runCli(runtime, args, { cwd, env: { SLUICE_HOME: join(cwd, "home-file") } });
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(/StateError: the state directory .*home-file is a file, not a directory/);
        expect(r.stderr).toContain("Set SLUICE_HOME or pass --home to a directory");
      }
      // A path through the file: said as one, not as a directory no run has written.
      const through = runCli(runtime, ["sql", "SELECT 1"], {
        cwd,
        env: { SLUICE_HOME: join(cwd, "home-file", "sub") },
      });
      expect(through.code, through.stderr).toBe(1);
      expect(through.stderr).toMatch(
        /StateError: the state directory .*home-file\/sub cannot be reached: .*ENOTDIR/,
      );
    });

    it("readers (sql, metrics) with a --home that does not exist: exit 1, said, and nothing made there", (ctx) => {
      requireTool(ctx, available(runtime), runtime, "npm install (bun and deno are dev dependencies)");
      const cwd = mkdtempSync(join(root, `typo-${runtime}-`));
      const home = join(cwd, "typo-home");
      for (const args of [["sql", "SELECT count(*) FROM runs"], ["metrics"], ["metrics", "--keep", "7d"]]) {
        const r = runCli(runtime, [...args, "--home", home], { cwd });
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(
          /StateError: there is no state directory at .*typo-home: no run has written there/,
        );
        expect(r.stderr).toContain("point --home (or SLUICE_HOME) at the directory your runs use");
        expect(existsSync(home)).toBe(false);
      }
      // An existing state directory: an empty store, or an unknown run, are state, not usage (exit 1).
      mkdirSync(home);
      const empty = runCli(runtime, ["metrics", "--home", home], { cwd });
      expect(empty.code, empty.stderr).toBe(1);
      expect(empty.stderr).toMatch(/StateError: the metrics store of .*typo-home has no runs yet/);
      runCli(
        runtime,
        ["run", join(repo, "test/conformance/pipelines/orders.ts"), "--home", home, "--quiet"],
        { cwd },
      );
      const unknown = runCli(runtime, ["metrics", "nope", "--home", home], { cwd });
      expect(unknown.code, unknown.stderr).toBe(1);
      expect(unknown.stderr).toMatch(/StateError: no run or pipeline "nope" in the metrics store/);
    });
  });
});
