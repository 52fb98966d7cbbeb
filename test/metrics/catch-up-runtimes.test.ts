/**
 * The catch-up's fault paths on node, bun and deno (`catch-up-smoke.ts`): an
 * unreadable journal is left out with a warning and the others load; a store
 * held by another process opens as a copy, removed on close.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { available, repo, runScript } from "../helpers/runtimes.ts";
import { requireTool } from "../helpers/tools.ts";
import { holdStore } from "./catch-up-fixtures.ts";
import { tempHome } from "./fixtures.ts";

const home = tempHome("catch-up-runtimes");
afterAll(() => home.cleanup());
const script = join(repo, "test/metrics/catch-up-smoke.ts");

describe.each(["node", "bun", "deno"] as const)("catch-up on %s", (runtime) => {
  it("leaves out an unreadable journal with a warning; opens a held store as a copy", async (ctx) => {
    requireTool(ctx, available(runtime), runtime, "npm install (bun and deno are dev dependencies)");
    const h = join(home.dir, runtime);
    const fresh = runScript(runtime, script, ["fresh", h]);
    expect(fresh.status, fresh.stderr).toBe(0);
    expect(fresh.output).toEqual({
      runs: 2,
      skipped: 1,
      loaded: [{ pipeline: "beta", rows_in: 40 }],
      warnings: ["run * of pipeline alpha: not loaded into the metrics store (the other "],
    });

    const holder = await holdStore(h);
    try {
      const held = runScript(runtime, script, ["held", h]);
      expect(held.status, held.stderr).toBe(0);
      expect(held.output).toEqual({
        caughtUp: null,
        stale:
          "* is held by process * (a `sluice serve` or another reader): showing a copy of it as it stood, which may lack the newest events.",
        loaded: [{ pipeline: "beta", rows_in: 40 }],
        copyRemoved: true,
      });
    } finally {
      await holder.release();
    }
  }, 120_000);
});
