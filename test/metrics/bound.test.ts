/**
 * Latency, busy and CPU time mean the same for every stage kind, and waiting
 * is told apart from CPU: a mapAsync that sleeps (I/O-bound) and a map that
 * spins (CPU-bound), run on node, bun and deno and read back from the store.
 * The bounds are physical, not timing guesses: a chunk of 20 records slept
 * 2 ms each, two at a time, cannot finish in under 20 ms; one spun 1 ms a
 * record cannot finish in under 20 ms; no chunk outlasts its run.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { available, repo, runScript } from "../helpers/runtimes.ts";
import { requireTool } from "../helpers/tools.ts";
import { tempHome } from "./fixtures.ts";

const home = tempHome("bound");
afterAll(() => home.cleanup());
const script = join(repo, "test/metrics/bound-run.ts");

interface Fig {
  pipeline: string;
  stage: string;
  chunks: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  busy_ms: number;
  cpu_ms: number;
  wait_ms: number;
  bound_by: string;
  duration_ms: number;
}

describe.each(["node", "bun", "deno"] as const)("stage timing on %s", (runtime) => {
  it("a sleeping mapAsync is I/O-bound with its true chunk latency; a spinning map is CPU-bound; the advice differs", (ctx) => {
    requireTool(ctx, available(runtime), runtime, "npm install (bun and deno are dev dependencies)");
    const r = runScript(runtime, script, [join(home.dir, runtime)]);
    expect(r.status, r.stderr).toBe(0);
    const [sleeping, spinning] = r.output.figures as Fig[];
    expect(sleeping).toMatchObject({ pipeline: "sleeping", stage: "1:mapAsync", chunks: 50, bound_by: "io" });
    expect(spinning).toMatchObject({ pipeline: "spinning", stage: "1:map", chunks: 40, bound_by: "cpu" });
    // 20 records, 2 in flight, 2 ms each: at least 20 ms a chunk (timers never fire early by a whole ms).
    expect(sleeping.p50_ms).toBeGreaterThanOrEqual(18);
    expect(sleeping.max_ms).toBeLessThanOrEqual(sleeping.duration_ms);
    expect(sleeping.wait_ms).toBeGreaterThan(4 * sleeping.cpu_ms);
    // Source and sink do not measure CPU time: no CPU, no wait, no bound (not zeros).
    expect(r.output.edges).toEqual([
      { stage: "sink", cpu_ms: null, wait_ms: null, bound_by: null },
      { stage: "source", cpu_ms: null, wait_ms: null, bound_by: null },
    ]);
    // 20 records spun 1 ms each: at least 20 ms a chunk, all of it CPU.
    expect(spinning.p50_ms).toBeGreaterThanOrEqual(20 / 1.25); // the histogram bucket holding 20 ms starts above 16
    expect(spinning.max_ms).toBeLessThanOrEqual(spinning.duration_ms);
    expect(spinning.cpu_ms).toBeCloseTo(spinning.busy_ms, 6);
    // The per-second view holds the same chunks, with non-zero percentiles.
    expect(r.output.perSecond).toEqual([
      expect.objectContaining({ stage: "1:map", chunks: 40 }),
      expect.objectContaining({ stage: "1:mapAsync", chunks: 50 }),
    ]);
    for (const row of r.output.perSecond as Array<{ p50_max: number }>)
      expect(row.p50_max).toBeGreaterThan(0);
    expect(r.output.sleeping).toContainEqual({ id: "raise-concurrency", stage: "1:mapAsync" });
    expect(r.output.sleeping).not.toContainEqual(expect.objectContaining({ id: "parallelise-stage" }));
    expect(r.output.spinning).toContainEqual({ id: "parallelise-stage", stage: "1:map" });
    expect(r.output.spinning).not.toContainEqual(expect.objectContaining({ id: "raise-concurrency" }));
  });
});
