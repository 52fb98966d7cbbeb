/**
 * `sluice run --adaptive` through the CLI on node, bun and deno: a pipeline
 * with a deliberately CPU-heavy parallelMap stage gets `config.changed`
 * events (journaled, with their reasons) and writes the same output as the
 * same pipeline run without --adaptive.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type RuntimeName, repo, runCli } from "../helpers/runtimes.ts";

const fixture = join(repo, "test/fixtures/adaptive/pipeline.ts");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function runIn(rt: RuntimeName, adaptive: boolean) {
  const cwd = mkdtempSync(join(tmpdir(), `sluice-adaptive-${rt}-`));
  dirs.push(cwd);
  const home = join(cwd, ".sluice");
  const r = runCli(rt, ["run", fixture, "--home", home, "--quiet", ...(adaptive ? ["--adaptive"] : [])], {
    cwd,
    env: { SLUICE_METRICS: "off" },
  });
  expect(r.code, `${rt} failed:\n${r.stderr}\n${r.stdout}`).toBe(0);
  const hash = createHash("sha256")
    .update(readFileSync(join(cwd, "out/adaptive.ndjson")))
    .digest("hex");
  return { cwd, home, hash };
}

describe("sluice run --adaptive", () => {
  for (const rt of ["node", "bun", "deno"] as const) {
    it(`${rt}: config.changed events with reasons; output identical to a non-adaptive run`, () => {
      const plain = runIn(rt, false);
      const adaptive = runIn(rt, true);
      expect(adaptive.hash).toBe(plain.hash);
      const runs = runCli("node", ["runs", "--home", adaptive.home, "--json"]);
      const runId = (JSON.parse(runs.stdout.trim().split("\n")[0]) as { runId: string }).runId;
      const ev = runCli("node", [
        "events",
        runId,
        "--home",
        adaptive.home,
        "--kind",
        "config.changed",
        "--json",
      ]);
      expect(ev.code, ev.stderr).toBe(0);
      const changes = ev.stdout
        .trim()
        .split("\n")
        .filter(Boolean)
        .map(
          (l) =>
            JSON.parse(l) as { stage: string; setting: string; from: number; to: number; reason: string },
        );
      expect(changes.length).toBeGreaterThan(0);
      for (const c of changes) {
        expect(["chunk.rows", "workers"]).toContain(c.setting);
        expect(c.to).not.toBe(c.from);
        expect(c.reason).toMatch(/\d/); // quotes figures
      }
      // Without --adaptive nothing is tuned.
      const plainRuns = runCli("node", ["runs", "--home", plain.home, "--json"]);
      const plainId = (JSON.parse(plainRuns.stdout.trim().split("\n")[0]) as { runId: string }).runId;
      const none = runCli("node", [
        "events",
        plainId,
        "--home",
        plain.home,
        "--kind",
        "config.changed",
        "--json",
      ]);
      expect(none.stdout.trim()).toBe("");
    });
  }
});
