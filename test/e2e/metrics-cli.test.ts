/** `sluice run` records metrics with no configuration; `sluice metrics` and `sluice sql` read them. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repo, runCli } from "../helpers/runtimes.ts";

const cwd = mkdtempSync(join(tmpdir(), "sluice-metrics-cli-"));
const home = join(cwd, ".sluice");
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe("metrics from the CLI", () => {
  it("a run lands in the metrics store; metrics and sql read it; writes are refused", () => {
    const run = runCli("node", ["run", join(repo, "test/conformance/pipelines/orders.ts"), "--home", home], {
      cwd,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain("metrics are not recorded");

    const sql = runCli(
      "node",
      ["sql", "SELECT pipeline, status, rows_in, dead_lettered FROM runs", "--json", "--home", home],
      { cwd },
    );
    expect(sql.code, sql.stderr).toBe(0);
    expect(JSON.parse(sql.stdout)).toEqual([
      { pipeline: "conformance-orders", status: "completed", rows_in: 20000, dead_lettered: 20 },
    ]);

    const stages = runCli(
      "node",
      ["sql", "SELECT DISTINCT stage FROM stage_metrics ORDER BY stage", "--json", "--home", home],
      { cwd },
    );
    expect(JSON.parse(stages.stdout).map((r: { stage: string }) => r.stage)).toEqual([
      "1:filter",
      "2:map",
      "3:flatMap",
      "sink",
      "source",
    ]);

    const m = runCli("node", ["metrics", "--home", home], { cwd });
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/conformance-orders · completed/);
    expect(m.stdout).toMatch(/p99 ms/);
    expect(m.stdout).toMatch(/^2:map\s+17,510/m);

    const drop = runCli("node", ["sql", "DROP TABLE runs", "--home", home], { cwd });
    expect(drop.code).toBe(1);
    expect(drop.stderr).toMatch(/not allowed.*read-only/);

    const keep = runCli("node", ["metrics", "--keep", "soon", "--home", home], { cwd });
    expect(keep.code).toBe(2);
    expect(keep.stderr).toContain('--keep: "soon" is not a duration');
  });
});
