/** The run summary `sluice run` prints: what it says of the output of a run that did not complete. */
import { describe, expect, it } from "vitest";
import { renderSummary } from "../../src/cli/commands/run.ts";
import type { RunSummary } from "../../src/pipeline/run-types.ts";

const summary = (status: RunSummary["status"]): RunSummary => ({
  runId: "20261207T000000000Z-000000",
  pipeline: "orders",
  status,
  rowsIn: 10,
  rowsOut: 10,
  filtered: 0,
  deadLettered: 0,
  sideOutput: 0,
  bytes: 100,
  durationMs: 5,
  rowsPerSecond: 2000,
  checkpoints: 1,
  output: "/data/out/orders.ndjson",
  runDir: "/data/.sluice/orders/20261207T000000000Z-000000",
  stages: [],
});

describe("renderSummary", () => {
  it("names the output of a completed run; says a run that did not complete left it incomplete", () => {
    expect(renderSummary(summary("completed"))).toContain("\n  output: /data/out/orders.ndjson");
    expect(renderSummary(summary("interrupted"))).toContain(
      "\n  output (not complete: the run was interrupted): /data/out/orders.ndjson",
    );
    expect(renderSummary(summary("failed"))).toContain(
      "\n  output (not complete: the run failed): /data/out/orders.ndjson",
    );
  });

  it("counts checkpoints in the singular for one", () => {
    expect(renderSummary(summary("completed"))).toMatch(/ · 1 checkpoint$/m);
    expect(renderSummary({ ...summary("completed"), checkpoints: 3 })).toMatch(/ · 3 checkpoints$/m);
  });
});
