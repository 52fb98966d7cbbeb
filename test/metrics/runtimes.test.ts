/** The metrics store opens, writes and queries the same on node, bun and deno. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { available, command, type RuntimeName, repo } from "../helpers/runtimes.ts";
import { requireTool } from "../helpers/tools.ts";
import { tempHome } from "./fixtures.ts";

const home = tempHome("runtimes");
afterAll(() => home.cleanup());
const script = join(repo, "test/metrics/runtime-smoke.ts");
const outputs = new Map<RuntimeName, unknown>();

describe.each(["node", "bun", "deno"] as const)("metrics store on %s", (runtime) => {
  it("ingests, queries views, reopens read-only and refuses writes", (ctx) => {
    requireTool(ctx, available(runtime), runtime, "npm install (bun and deno are dev dependencies)");
    const [bin, ...pre] = command(runtime);
    const args = runtime === "node" ? ["--import", "tsx", script] : [...pre, script];
    const r = spawnSync(bin, [...args, join(home.dir, runtime)], {
      cwd: repo,
      encoding: "utf8",
      timeout: 240_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "null");
    expect(out.accepted).toBeGreaterThan(300);
    expect(out.runs).toEqual([{ run_id: "run-rt", status: "completed", rows_in: 9000 }]);
    expect(out.refused).toBe("MetricsQueryError");
    expect(out.bottleneck).toBeNull(); // sink busy 30%, all stages 60%: nothing limits the run
    outputs.set(runtime, out);
    const node = outputs.get("node");
    if (node) expect(out).toEqual(node);
  });
});
