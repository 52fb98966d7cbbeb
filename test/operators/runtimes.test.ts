/**
 * The cache and recovery operators on node, bun and deno: the smoke pipeline
 * runs on each, and the cache's L2 written by node is read by bun and deno
 * (LMDB loads on all three and their files are interchangeable).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { available, command, type RuntimeName, repo } from "../helpers/runtimes.ts";

const script = join(repo, "test/fixtures/cache-recovery-smoke.ts");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function smoke(rt: RuntimeName, home: string): { runtime: string; computed: number; ok: boolean } {
  const [bin, ...pre] = command(rt);
  const args = rt === "node" ? ["--import", "tsx", script, home] : [...pre, script, home];
  const r = spawnSync(bin, args, { cwd: repo, encoding: "utf8", timeout: 120_000 });
  expect(r.status, `${rt} failed:\n${r.stderr}\n${r.stdout}`).toBe(0);
  return JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}");
}

describe("cache and recovery operators on every runtime", () => {
  it("run on node, bun and deno, and share the on-disk cache between them", () => {
    const home = mkdtempSync(join(tmpdir(), "sluice-op-runtimes-"));
    dirs.push(home);
    const first = smoke("node", home);
    expect(first).toMatchObject({ runtime: "node", computed: 200, ok: true });
    for (const rt of ["bun", "deno"] as const) {
      if (!available(rt) && process.env.CI !== "true") continue;
      expect(smoke(rt, home)).toMatchObject({ runtime: rt, computed: 0, ok: true });
      const fresh = mkdtempSync(join(tmpdir(), `sluice-op-${rt}-`));
      dirs.push(fresh);
      expect(smoke(rt, fresh)).toMatchObject({ runtime: rt, computed: 200, ok: true });
    }
  });
});
