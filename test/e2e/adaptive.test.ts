/**
 * `sluice run --adaptive` through the CLI on node, bun and deno: a pipeline
 * with a deliberately CPU-heavy parallelMap stage gets `config.changed`
 * events (journaled, with their reasons) and writes the same output as the
 * same pipeline run without --adaptive. The adaptive run records metrics:
 * `sluice metrics RUN` lists the changes the `config_changes` view holds.
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
    env: { SLUICE_METRICS: adaptive ? "on" : "off" },
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
      // The metrics store has the same changes, and `sluice metrics` lists them.
      const view = runCli("node", [
        "sql",
        `SELECT seq, ts, stage, setting, from_value, to_value FROM config_changes WHERE run_id = '${runId}' ORDER BY seq`,
        "--json",
        "--home",
        adaptive.home,
      ]);
      expect(view.code, view.stderr).toBe(0);
      const rows = JSON.parse(view.stdout) as Array<{
        seq: number;
        ts: string;
        stage: string;
        setting: string;
        from_value: number;
        to_value: number;
      }>;
      expect(rows.map((r) => [r.stage, r.setting, r.from_value, r.to_value])).toEqual(
        changes.map((c) => [c.stage, c.setting, c.from, c.to]),
      );
      const text = runCli("node", ["metrics", runId, "--home", adaptive.home]);
      expect(text.code, text.stderr).toBe(0);
      const section = text.stdout.split("\n\n").find((p) => p.startsWith("config changes:\n"));
      expect(section, text.stdout).toBeDefined();
      // One line per change (the 20th says how many more when there are more).
      const lines = section?.trimEnd().split("\n").slice(1) ?? [];
      expect(lines).toHaveLength(Math.min(rows.length, 20));
      const n = (v: number) => v.toLocaleString("en-US");
      for (const [i, r] of rows.slice(0, rows.length > 20 ? 19 : 20).entries())
        expect(
          lines[i].startsWith(
            `  ${r.ts.slice(11, 19)} ${r.stage} ${r.setting} ${n(r.from_value)} → ${n(r.to_value)} (`,
          ),
          `${lines[i]}\n${JSON.stringify(r)}`,
        ).toBe(true);
      if (rows.length > 20) expect(lines[19]).toContain(`… ${rows.length - 19} more`);
      const json = runCli("node", ["metrics", runId, "--home", adaptive.home, "--json"]);
      expect(json.code, json.stderr).toBe(0);
      const report = JSON.parse(json.stdout) as { configChanges: Array<{ seq: number }> };
      expect(report.configChanges.map((c) => c.seq)).toEqual(rows.map((r) => r.seq));
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
