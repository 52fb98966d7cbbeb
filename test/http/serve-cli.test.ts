/**
 * `sluice run FILE --serve 0 --allow-writes --allowed-hosts NAME` on node,
 * bun and deno (the server thread gets the bind and the allow-list): the
 * issue's cross-site cancel and a DNS-rebinding read are refused while the run
 * is live; a JSON write from the allowed name with its own Origin is accepted.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { available, cli, command, type RuntimeName, repo } from "../helpers/runtimes.ts";
import { whenServing } from "../helpers/serving.ts";
import { requireTool } from "../helpers/tools.ts";
import { send } from "./attack-client.ts";

let child: ChildProcess | undefined;
let home: string | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  child = undefined;
  if (home) rmSync(home, { recursive: true, force: true });
});

function start(runtime: RuntimeName): Promise<{ port: number; stderr: () => string }> {
  home = mkdtempSync(join(tmpdir(), "sluice-serve-cli-"));
  const [bin, ...pre] = command(runtime);
  const args = ["run", join(repo, "test/fixtures/http/alerting.ts"), "--serve", "0", "--allow-writes"];
  child = spawn(bin, [...pre, cli, ...args, "--allowed-hosts", "dash.test", "--home", join(home, ".s")], {
    cwd: home,
    // The gate file never appears: the run stays live half-way until cancelled.
    env: {
      ...process.env,
      NO_COLOR: "1",
      SLUICE_FIXTURE_GATE: join(home, "never"),
      SLUICE_FIXTURE_ROWS: "2000",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return whenServing(child, runtime);
}

describe.each(["node", "bun", "deno"] as const)("sluice run --serve on %s", (runtime) => {
  it("refuses rebinding reads and cross-site writes; the allowed name with its Origin may cancel", async (ctx) => {
    requireTool(ctx, available(runtime), runtime, "npm install (bun and deno are dev dependencies)");
    const { port, stderr } = await start(runtime);
    const evil = `evil.example:${port}`;
    expect((await send(port, "/api/runs", { headers: { Host: evil } })).status).toBe(403);
    let runId: string | undefined;
    for (let i = 0; i < 300 && !runId; i++) {
      const r = await send(port, "/api/runs", { headers: { Host: `dash.test:${port}` } });
      expect(r.status).toBe(200);
      runId = JSON.parse(r.text).items.find((x: { live: boolean }) => x.live)?.runId;
      if (!runId) await new Promise((r) => setTimeout(r, 100));
    }
    expect(runId).toBeDefined();
    const cancel = `/api/runs/${runId}/cancel`;
    const form = { "Content-Type": "application/x-www-form-urlencoded" };
    // The request: a form POST from a rebinding page, then from a plain cross-site page.
    for (const headers of [
      { ...form, Origin: "https://evil.example", Host: evil },
      { ...form, Origin: "https://evil.example" },
      { ...form, Origin: `http://127.0.0.1:${port}` },
    ]) {
      const r = await send(port, cancel, { method: "POST", headers, body: "x=1" });
      expect(r.status, JSON.stringify(headers)).toBe(403);
    }
    const live = await send(port, `/api/runs/${runId}`);
    expect(JSON.parse(live.text).status).toBe("running");
    const ok = await send(port, cancel, {
      method: "POST",
      headers: {
        Host: `dash.test:${port}`,
        Origin: `http://dash.test:${port}`,
        "Content-Type": "application/json",
      },
      body: "{}",
    });
    expect(ok.status, ok.text).toBe(200);
    // Accepted (the fixture's gate holds the stage, so the run ends only once it is released).
    expect(JSON.parse(ok.text)).toEqual({ cancelled: true });
    expect(stderr()).not.toMatch(/Error/);
  });
});
