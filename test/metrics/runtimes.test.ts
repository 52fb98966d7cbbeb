/** The metrics store opens, writes and queries the same on node, bun and deno. */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { available, type RuntimeName, repo, runScript } from "../helpers/runtimes.ts";
import { requireTool } from "../helpers/tools.ts";
import { tempHome } from "./fixtures.ts";

const home = tempHome("runtimes");
afterAll(() => home.cleanup());
const script = join(repo, "test/metrics/runtime-smoke.ts");
const outputs = new Map<RuntimeName, unknown>();

describe.each(["node", "bun", "deno"] as const)("metrics store on %s", (runtime) => {
  it("ingests, queries views, reopens read-only and refuses writes", (ctx) => {
    requireTool(ctx, available(runtime), runtime, "npm install (bun and deno are dev dependencies)");
    const r = runScript(runtime, script, [join(home.dir, runtime)]);
    expect(r.status, r.stderr).toBe(0);
    const out = r.output;
    expect(out.accepted).toBeGreaterThan(300);
    expect(out.runs).toEqual([{ run_id: "run-rt", status: "completed", rows_in: 9000 }]);
    expect(out.refused).toBe("MetricsQueryError");
    // One completed run: trend rows for the run and its stages, no direction yet.
    expect(out.trends).toContainEqual(["*", "rows_per_s", 1, null]);
    expect(out.trends.length).toBeGreaterThan(3);
    expect(out.bottleneck).toBeNull(); // sink busy 30%, all stages 60%: nothing limits the run
    outputs.set(runtime, out);
    const node = outputs.get("node");
    if (node) expect(out).toEqual(node);
  });
});
