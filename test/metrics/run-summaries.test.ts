/**
 * The per-pipeline summary a run appends at its end (what the next runs'
 * alert baselines read): a write that fails is reported, does not fail the
 * run, and leaves no temporary file behind.
 */
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runJournaled } from "../../src/journal/run-journal.ts";
import { readRunFigures, runSummaries } from "../../src/metrics/run-summaries.ts";
import { numbers } from "./catch-up-fixtures.ts";
import { tempHome } from "./fixtures.ts";

const home = tempHome("run-summaries");
afterAll(() => home.cleanup());

describe("runSummaries", () => {
  it("appends each run's figures to its pipeline's summary.json", async () => {
    const h = join(home.dir, "ok");
    const a = await runJournaled(numbers("alpha", 5), {
      home: h,
      sampleResources: false,
      plugins: [runSummaries()],
    });
    const b = await runJournaled(numbers("alpha", 7), {
      home: h,
      sampleResources: false,
      plugins: [runSummaries()],
    });
    const runs = await readRunFigures(h, "alpha");
    expect(runs.map((r) => [r.runId, r.rowsIn])).toEqual([
      [a.runId, 5],
      [b.runId, 7],
    ]);
  });

  it("a summary that cannot be written is reported, the run still completes, and no temporary file is left", async () => {
    const h = join(home.dir, "blocked");
    // summary.json a directory: the temporary file cannot replace it.
    mkdirSync(join(h, "beta", "summary.json"), { recursive: true });
    const errors: unknown[] = [];
    const s = await runJournaled(numbers("beta", 3), {
      home: h,
      sampleResources: false,
      plugins: [runSummaries({ onError: (e) => errors.push(e) })],
    });
    expect(s.status).toBe("completed");
    expect(errors).toHaveLength(1);
    expect(readdirSync(join(h, "beta")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
