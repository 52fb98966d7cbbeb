/** The CLI as a user meets it: success summary, exit codes and one clear message per mistake. */

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { available, cli, command, repo, runCli } from "../helpers/runtimes.ts";
import { requireTool } from "../helpers/tools.ts";

const home = mkdtempSync(join(tmpdir(), "sluice-cli-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const fixture = (f: string) => join(repo, "test/fixtures/pipelines", f);

/** A directory in which the conformance orders pipeline ran once (its state in `.s`). */
function ordersRun(prefix: string): string {
  const cwd = mkdtempSync(join(home, prefix));
  const made = runCli(
    "node",
    ["run", join(repo, "test/conformance/pipelines/orders.ts"), "--home", join(cwd, ".s"), "--quiet"],
    { cwd },
  );
  expect(made.code, made.stderr).toBe(0);
  return cwd;
}

describe("sluice CLI", () => {
  it("runs a pipeline and prints a reconciling summary", () => {
    const cwd = mkdtempSync(join(home, "run-"));
    const r = runCli(
      "node",
      ["run", join(repo, "test/conformance/pipelines/orders.ts"), "--home", join(cwd, ".s")],
      { cwd },
    );
    expect(r.code, r.stderr).toBe(0);
    const m = /rows in ([\d,]+) · out ([\d,]+) · filtered ([\d,]+) · dead-lettered ([\d,]+)/.exec(r.stdout);
    expect(m).not.toBeNull();
    const [inn, out, filtered, dead] = m!.slice(1).map((x) => Number(x.replace(/,/g, "")));
    expect(inn).toBe(20_000);
    expect(dead).toBe(20); // one bad row in 997
    // flatMap adds annotated rows: the file holds out rows.
    const lines = readFileSync(join(cwd, "out/orders.ndjson"), "utf8").trim().split("\n");
    expect(lines.length).toBe(out);
    expect(filtered).toBeGreaterThan(0);
    expect(r.stdout).toContain("output:");
  });

  it.each([
    ["missing.ts", /pipeline file not found/],
    ["not-a-pipeline.ts", /is not a pipeline \(got number\)/],
    ["no-default.ts", /has no default export/],
    ["syntax-error.ts", /could not load .*syntax-error\.ts.*\n?.*Unexpected/],
    [
      "bad-alerts.ts",
      /pipeline "bad-alerts": Invalid metrics setting alerts\.rules\.queueDepth: critical \(5\) must be ≥ warning \(10\)\n\s+See the alert rules in docs\/metrics\.md/,
    ],
  ])("%s → exit 2 with one clear message and no stack trace", (file, pattern) => {
    const r = runCli("node", ["run", fixture(file), "--home", home]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  for (const [rt, pattern] of [
    ["node", /syntax-error\.ts:1:18: Unexpected ";"/],
    ["bun", /syntax-error\.ts:1:18: Unexpected ;/],
    ["deno", /Expression expected\n\s+\|\n1 \| export const x = ;/],
  ] as const)
    it(`a syntax error on ${rt} says where it is`, (ctx) => {
      requireTool(ctx, available(rt), rt, "npm install (bun and deno are dev dependencies)");
      const r = runCli(rt, ["run", fixture("syntax-error.ts"), "--home", home]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(pattern);
    });

  it("a missing input file fails the run with exit 1 and names the file", () => {
    const r = runCli("node", ["run", fixture("missing-input.ts"), "--home", home]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("input file not found");
    expect(r.stderr).toContain("does-not-exist.csv");
  });

  it("--verbose adds the stack trace", () => {
    const r = runCli("node", ["run", fixture("no-default.ts"), "--home", home, "--verbose"]);
    expect(r.stderr).toMatch(/^\s+at /m);
  });

  it("unknown flags and commands are usage errors", () => {
    const a = runCli("node", ["run", "--frobnicate", "x.ts"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("Unknown option '--frobnicate'");
    const b = runCli("node", ["bogus"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('unknown command "bogus"');
    for (const port of ["abc", "99999"]) {
      const c = runCli("node", ["serve", "--port", port, "--home", home]);
      expect(c.code, c.stderr).toBe(2);
      expect(c.stderr).toContain(`"${port}" is not a port number (0-65535`);
    }
    // A mistyped port after --serve reads as a second pipeline file: said as the port it was meant to be.
    const d = runCli("node", ["run", fixture("no-default.ts"), "--serve", "abc", "--home", home]);
    expect(d.code, d.stderr).toBe(2);
    expect(d.stderr).toContain('--serve: "abc" is not a port number (0-65535');
    const e = runCli("node", ["run", "a.ts", "b.ts", "--home", home]);
    expect(e.stderr).toContain("run: expected exactly one pipeline file");
  });

  it("events with nothing to show say so on stderr (stdout stays empty)", () => {
    const cwd = ordersRun("no-events-");
    const args = ["events", "conformance-orders", "--kind", "alert.raised", "--home", join(cwd, ".s")];
    const r = runCli("node", args, { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^sluice: run \S+ has no alert.raised event$/m);
  });

  it("output into a pipe the reader closed early (`| head`) ends quietly with exit 0, on node, bun and deno", async () => {
    const cwd = ordersRun("pipe-");
    for (const rt of ["node", "bun", "deno"] as const) {
      const [bin, ...pre] = command(rt);
      // ~1 MB of rows: far more than a pipe holds, so writes continue after the reader is gone.
      const child = spawn(
        bin,
        [
          ...pre,
          cli,
          "sql",
          "SELECT range AS n, repeat('x', 100) AS pad FROM range(10000)",
          "--home",
          join(cwd, ".s"),
        ],
        { cwd, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      let got = 0;
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      child.stdout.once("data", (d: Buffer) => {
        got = d.length;
        child.stdout.destroy();
      });
      const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
      expect(got, `${rt}: no output`).toBeGreaterThan(0);
      expect(stderr, rt).not.toMatch(/EPIPE|Unhandled|error/i);
      expect(code, `${rt}: ${stderr}`).toBe(0);
    }
  }, 120_000);
});
