/**
 * The worker pool's conformance checks (crash, throw, hang, heartbeat, poison, ordering…)
 * run directly on Bun and Deno, as they run under vitest on Node in worker-pool.test.ts.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { available, command, repo } from "../helpers/runtimes.ts";

describe("worker pool conformance on other runtimes", () => {
  for (const rt of ["bun", "deno"] as const) {
    it(`${rt}: every conformance check passes`, () => {
      expect(available(rt), `${rt} missing under node_modules/.bin — run npm install`).toBe(true);
      const [bin, ...pre] = command(rt);
      const r = spawnSync(bin, [...pre, join(repo, "test/runtime/worker-pool-conformance.ts")], {
        cwd: repo,
        encoding: "utf8",
        timeout: 180_000,
      });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`${rt}: 14 of 14 checks passed`));
      expect(r.stdout).not.toMatch(/^FAIL/m);
    });
  }
});
