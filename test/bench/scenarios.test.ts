/**
 * A tiny run of every scenario (built-in, and the example in
 * benchmarks/scenarios): correctness only — each measurement's output is
 * checked by the scenario and against sluice's — no timing assertions.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { builtinScenario, loadScenarioFile } from "../../src/bench/load.ts";
import { roundOrder, runBench } from "../../src/bench/runner.ts";
import { builtinScenarios } from "../../src/bench/scenarios/index.ts";
import { runtimeName } from "../../src/runtime/detect.ts";
import { repo } from "../helpers/runtimes.ts";

const home = mkdtempSync(join(tmpdir(), "sluice-bench-test-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("every scenario at tiny scale", () => {
  it("runs and produces correct output (sluice only, one run each)", async () => {
    const scenarios = [
      ...builtinScenarios.map((s) => builtinScenario(s.name)!),
      ...(await loadScenarioFile(join(repo, "benchmarks/scenarios/sessions.bench.ts"))),
    ];
    const run = await runBench({
      scenarios,
      scale: "tiny",
      runs: 1,
      runtimes: [runtimeName],
      home,
      sampleMs: 50,
    });
    expect(run.results.map((r) => r.scenario)).toEqual(scenarios.map((s) => s.scenario.name));
    for (const r of run.results) {
      if (r.status === "skipped") {
        // Only a scenario whose operator is not there yet may be skipped, and it says why.
        expect(r.scenario).toBe("cpu-parallel");
        expect(r.note).toMatch(/parallelMap/);
        continue;
      }
      expect(r.status, `${r.scenario}: ${r.note}`).toBe("ok");
      expect(r.runs).toBe(1);
      expect(r.rows).toBeGreaterThan(0);
      expect(r.rowsPerS?.median).toBeGreaterThan(0);
      expect(r.peakRssMb?.median).toBeGreaterThan(0);
      expect(r.timeline.length).toBeGreaterThan(0);
    }
    const journal = run.results.find((r) => r.scenario === "journal-heavy")!;
    expect(journal.measurements[0].killed).toBe(true);
    const metrics = run.results.find((r) => r.scenario === "metrics-heavy")!;
    expect(metrics.metrics.events_written?.median).toBeGreaterThan(0);
    const memory = run.results.find((r) => r.scenario === "memory-bound")!;
    expect(memory.memoryCapMb).toBeGreaterThan(0);
  });

  it("peers run alternately with sluice; a wrong or failing peer is a failed result, not a crash", async () => {
    const scenarios = await loadScenarioFile(join(import.meta.dirname, "fixtures/mismatch.bench.ts"));
    const run = await runBench({
      scenarios,
      scale: "tiny",
      runs: 1,
      runtimes: [runtimeName],
      peers: true,
      home,
    });
    const by = Object.fromEntries(run.results.map((r) => [r.implementation, r]));
    expect(by.sluice.status).toBe("ok");
    expect(by.right.status).toBe("ok");
    expect(by.right.vsSluice?.rowsPerS?.n).toBe(1);
    expect(by.wrong.status).toBe("failed");
    expect(by.wrong.note).toMatch(/differs from sluice/);
    expect(by.broken.status).toBe("failed");
    expect(by.broken.note).toMatch(/this peer always fails/);
  });

  it("alternates the order of implementations from round to round", () => {
    expect(roundOrder(["sluice", "a", "b"], 0)).toEqual(["sluice", "a", "b"]);
    expect(roundOrder(["sluice", "a", "b"], 1)).toEqual(["b", "a", "sluice"]);
    expect(roundOrder(["sluice", "a", "b"], 2)).toEqual(["sluice", "a", "b"]);
  });
});
