/**
 * The catch-up's fault paths on node, bun and deno (`catch-up-smoke.ts`): an
 * unreadable journal is left out with a warning and the others load; a store
 * held by another process opens as a copy, removed on close; a server's
 * store (`ServedStore`) started on that copy serves the store once it is free.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { available, repo, runScript, scriptCommand } from "../helpers/runtimes.ts";
import { requireTool } from "../helpers/tools.ts";
import { holdStore } from "./catch-up-fixtures.ts";
import { tempHome } from "./fixtures.ts";

const home = tempHome("catch-up-runtimes");
afterAll(() => home.cleanup());
const script = join(repo, "test/metrics/catch-up-smoke.ts");

describe.each(["node", "bun", "deno"] as const)("catch-up on %s", (runtime) => {
  it("leaves out an unreadable journal with a warning; opens a held store as a copy, a server its store once free", async (ctx) => {
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

    // A server started while the store is held serves the store itself once it is free.
    const again = await holdStore(h);
    const [bin, ...pre] = scriptCommand(runtime, script);
    const child = spawn(bin, [...pre, "served", h], { cwd: repo, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (d) => {
          out += d;
          if (out.includes('{"stale":true}')) resolve();
        });
        void exited.then((code) => reject(new Error(`exited ${code}: ${out} ${err}`)));
      });
    } finally {
      await again.release();
    }
    child.stdin.write("go\n");
    expect(await exited, err).toBe(0);
    expect(JSON.parse(out.trim().split("\n").at(-1) ?? "null")).toEqual({
      stale: false,
      freed: 1,
      store: true,
      loaded: [{ pipeline: "beta", rows_in: 40 }],
      copyRemoved: true,
    });
  }, 180_000);
});
