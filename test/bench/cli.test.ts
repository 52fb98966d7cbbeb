/**
 * `sluice bench` end to end through the built CLI: JSON output, exit codes,
 * recording in the metrics store and `--check` against a stored baseline.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openBenchStore } from "../../src/bench/store.ts";
import { repo, runCli } from "../helpers/runtimes.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-bench-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sessions = join(repo, "benchmarks/scenarios/sessions.bench.ts");
const home = join(dir, "home");

describe("sluice bench", () => {
  it("--json prints one array of results with the documented fields; --html writes a report", () => {
    const html = join(dir, "report.html");
    const r = runCli("node", [
      "bench",
      sessions,
      "--scale",
      "tiny",
      "--runs",
      "1",
      "--peers",
      "--json",
      "--quiet",
      "--home",
      home,
      "--html",
      html,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(results.map((x) => x.implementation)).toEqual(["sluice", "plain-loop"]);
    for (const x of results) {
      for (const k of [
        "scenario",
        "implementation",
        "runtime",
        "rows",
        "rows_per_s",
        "p50_ms",
        "p99_ms",
        "peak_rss_mb",
        "runs",
      ]) {
        expect(x, k).toHaveProperty(k);
      }
      expect(x.status).toBe("ok");
      expect(x.runs).toBe(1);
      expect(x.runtime).toBe("node");
    }
    expect(results[1].vs_sluice).toBeTruthy();
    const page = readFileSync(html, "utf8");
    expect(page).toContain("<svg");
    expect(page).not.toMatch(/<script|https?:\/\//);
  });

  it("records results, and --check exits 1 when sluice is below its stored baseline", async () => {
    // A baseline no machine reaches: three earlier results at 10^12 rows/s.
    const store = await openBenchStore(home);
    const runs = JSON.parse(
      runCli("node", [
        "bench",
        sessions,
        "--scale",
        "tiny",
        "--runs",
        "1",
        "--json",
        "--quiet",
        "--no-record",
        "--home",
        home,
      ]).stdout,
    ) as Array<{ runtime_version: string; machine: { host: string } }>;
    for (let i = 0; i < 3; i++) {
      await store.record({
        key: {
          scenario: "sessions",
          implementation: "sluice",
          rows: 5000,
          runtime: "node",
          runtimeVersion: runs[0].runtime_version,
          host: runs[0].machine.host,
        },
        runId: `seed-${i}`,
        ts: Date.now() - 1000 * (i + 1),
        metrics: {
          rows_per_s: { value: 1e12, better: "higher" },
          peak_rss_mb: { value: 1e6, better: "lower" },
        },
        tags: {},
      });
    }
    await store.close();
    const r = runCli("node", [
      "bench",
      sessions,
      "--scale",
      "tiny",
      "--runs",
      "1",
      "--check",
      "--quiet",
      "--home",
      home,
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/REGRESSED rows_per_s/);
    expect(r.stdout).toMatch(/regression: sessions\/sluice/);
    const ok = runCli("node", [
      "bench",
      sessions,
      "--scale",
      "tiny",
      "--runs",
      "1",
      "--quiet",
      "--home",
      home,
    ]);
    expect(ok.code, ok.stderr).toBe(0); // without --check a regression is reported, not fatal
  });

  it("a failed measurement exits 1; bad usage exits 2", () => {
    const bad = runCli("node", [
      "bench",
      join(repo, "test/bench/fixtures/mismatch.bench.ts"),
      "--scale",
      "tiny",
      "--runs",
      "1",
      "--peer",
      "wrong",
      "--quiet",
      "--no-record",
      "--home",
      home,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/failed: fixture-mismatch\/wrong/);
    expect(runCli("node", ["bench", "--scale", "huge"]).code).toBe(2);
    expect(runCli("node", ["bench", "no-such-scenario"]).code).toBe(2);
    expect(runCli("node", ["bench", "--runtime", "java"]).code).toBe(2);
  });

  it("--list names the built-in scenarios", () => {
    const r = runCli("node", ["bench", "--list"]);
    expect(r.code).toBe(0);
    for (const name of [
      "csv-etl",
      "enrichment",
      "cpu-parallel",
      "journal-heavy",
      "metrics-heavy",
      "memory-bound",
    ]) {
      expect(r.stdout).toContain(name);
    }
  });
});
