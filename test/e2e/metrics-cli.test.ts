/**
 * `sluice run` records metrics with no configuration (the store in its own
 * thread, alerts on the run's bus); `sluice metrics` and `sluice sql` read them.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { metricsVsJournal } from "../faults/run-helpers.ts";
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

    // cpu % and what bounds each stage; the source and sink do not measure CPU time.
    expect(m.stdout).toMatch(/cpu %\s+bound/);
    expect(m.stdout).toMatch(/^2:map(\s+\S+){5}\s+(cpu|io|mixed)\s/m);
    expect(m.stdout).toMatch(/^sink(\s+\S+){4}\s+-\s+-\s/m);

    // A pipeline's name: its trends (one run: figures, no direction yet).
    const tr = runCli("node", ["metrics", "conformance-orders", "--home", home], { cwd });
    expect(tr.code, tr.stderr).toBe(0);
    expect(tr.stdout).toMatch(/^trends of conformance-orders over its last 1 completed run/m);
    expect(tr.stdout).toMatch(/^\(run\)\s+rows\/s\s+1\s/m);
    expect(tr.stdout).toMatch(/^2:map\s+p99 ms\s+1\s.*- \(under 3 runs\)$/m);
    const trJson = runCli("node", ["metrics", "conformance-orders", "--json", "--home", home], { cwd });
    const rows = JSON.parse(trJson.stdout) as Array<{
      stage: string;
      metric: string;
      runs: number;
      direction: null;
    }>;
    // peak_rss_bytes too when the run lasted long enough to be sampled.
    expect(rows.filter((t) => t.stage === "*").map((t) => t.metric)).toEqual(
      expect.arrayContaining(["p99_ms", "rows_per_s"]),
    );
    for (const t of rows) expect(t).toMatchObject({ runs: 1, direction: null });
    const views = runCli("node", ["sql", "SELECT count(*) AS n FROM trends", "--json", "--home", home], {
      cwd,
    });
    expect(JSON.parse(views.stdout)).toEqual([{ n: rows.length }]);

    const drop = runCli("node", ["sql", "DROP TABLE runs", "--home", home], { cwd });
    expect(drop.code).toBe(1);
    expect(drop.stderr).toMatch(/not allowed.*read-only/);

    const empty = runCli("node", ["sql", "  ;", "--home", home], { cwd });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("sql: the query is empty");

    const keep = runCli("node", ["metrics", "--keep", "soon", "--home", home], { cwd });
    expect(keep.code).toBe(2);
    expect(keep.stderr).toContain('--keep: "soon" is not a duration');
  }, 240_000);

  for (const rt of ["node", "bun", "deno"] as const) {
    it(`${rt}: every journaled event reaches the store in order, with the alert the pipeline's own rules raised`, async () => {
      const dir = join(cwd, `alerting-${rt}`);
      mkdirSync(dir, { recursive: true });
      const h = join(dir, ".sluice");
      // 10% of the rows are dead-lettered: with the default rules (critical at 5%) the
      // dead-letter-rate rule would raise a critical alert; the pipeline's `alerts` option
      // moves critical to 50%, so it raises a warning only.
      const run = runCli(rt, ["run", join(repo, "test/fixtures/http/alerting.ts"), "--home", h], {
        cwd: dir,
        // (a pause of 1 s half-way: the rule evaluates several intervals after the bad rows,
        // however the runtime chunks the file)
        env: {
          SLUICE_FIXTURE_ROWS: "40000",
          SLUICE_FIXTURE_PAUSE_MS: "1000",
          SLUICE_FIXTURE_ALERTS: JSON.stringify({
            rules: { deadLetterRate: { warning: 0.02, critical: 0.5 } },
          }),
        },
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).not.toContain("warning");

      const runs = runCli("node", [
        "sql",
        "SELECT run_id, rows_in, dead_lettered FROM runs",
        "--json",
        "--home",
        h,
      ]);
      expect(runs.code, runs.stderr).toBe(0);
      const [r] = JSON.parse(runs.stdout) as Array<{
        run_id: string;
        rows_in: number;
        dead_lettered: number;
      }>;
      expect(r).toMatchObject({ rows_in: 40000, dead_lettered: 4000 });

      const alerts = runCli("node", [
        "sql",
        "SELECT rule, severity, threshold FROM alerts WHERE rule = 'deadLetterRate'",
        "--json",
        "--home",
        h,
      ]);
      const dl = JSON.parse(alerts.stdout) as Array<{ rule: string; severity: string; threshold: number }>;
      expect(dl.length).toBeGreaterThan(0);
      for (const a of dl) expect(a).toEqual({ rule: "deadLetterRate", severity: "warning", threshold: 0.02 });

      const cmp = await metricsVsJournal(h, r.run_id, "http-fixture");
      expect(cmp.store).toEqual(cmp.journal);
      expect(cmp.firstDifference).toBe("none");
      expect(cmp.journal["alert.raised"]).toBeGreaterThan(0);
    });
  }
});
