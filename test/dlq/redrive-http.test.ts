/**
 * Issue 20, the same over HTTP, on node, bun and deno: a run of the
 * dead-letter fixture through the CLI leaves 40 letters; `sluice serve
 * --allow-writes`, started in the run's directory with the fixed pipeline's
 * environment, takes `POST /api/runs/dlq/redrive` with no pipeline named (the
 * run's own file is loaded again), answers 202 with the redrive's run, 409 to
 * a second request while it runs; the runs API then shows the redrive
 * completed, the queue's counts reconcile as after `sluice redrive` (40 = 35
 * redriven + 5 still dead) and the sink holds each row once. Stopping the
 * server (SIGTERM) exits cleanly.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { available, cli, command, type RuntimeName, runCli } from "../helpers/runtimes.ts";
import { whenServing } from "../helpers/serving.ts";
import { requireTool } from "../helpers/tools.ts";
import { send } from "../http/attack-client.ts";
import { fixture, sortedLines, workdir, writeInput } from "./helpers.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-dlq-http-"));
const data = join(root, "data");
beforeAll(() => writeInput(data));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  child = undefined;
});

/** `sluice serve --port 0 --allow-writes` in `cwd`; resolves with its port once it listens. */
function serve(
  rt: RuntimeName,
  cwd: string,
  home: string,
  env: Record<string, string> = {},
): Promise<{ port: number; stderr: () => string }> {
  const [bin, ...pre] = command(rt);
  child = spawn(bin, [...pre, cli, "serve", "--port", "0", "--allow-writes", "--home", home], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", SLUICE_DLQ_FIXED: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return whenServing(child, rt);
}

function scenario(rt: RuntimeName) {
  return async (ctx: { skip: (note?: string) => void }) => {
    requireTool(ctx, available(rt), rt, "npm install (bun and deno are dev dependencies)");
    const cwd = workdir(root, rt, data);
    const home = join(cwd, ".s");
    const first = runCli(rt, ["run", fixture, "--quiet", "--home", home], { cwd });
    expect(first.code, first.stderr).toBe(0);
    const before = sortedLines(cwd);

    const { port, stderr } = await serve(rt, cwd, home);
    const json = { "Content-Type": "application/json", Origin: `http://127.0.0.1:${port}` };
    const post = (body: unknown) =>
      send(port, "/api/runs/dlq/redrive", { method: "POST", headers: json, body: JSON.stringify(body) });
    // Refused before anything starts: a path out of the server's directory.
    const out = await post({ pipeline: "../../etc/passwd" });
    expect(out.status).toBe(400);
    expect(JSON.parse(out.text).error.field).toBe("body.pipeline");

    const r = await post({});
    expect(r.status, r.text).toBe(202);
    const started = JSON.parse(r.text);
    expect(started).toMatchObject({ taken: 40, run: expect.any(String), of: expect.any(String) });
    const again = await post({});
    expect(again.status, again.text).toBe(409);

    // Journaled like any run: the runs API shows it once the store has caught up.
    let status = "";
    for (let i = 0; i < 600 && status !== "completed" && status !== "failed"; i++) {
      const run = await send(port, `/api/runs/${started.run}`);
      if (run.status === 200) status = JSON.parse(run.text).status;
      if (status !== "completed") await new Promise((res) => setTimeout(res, 200));
    }
    expect(status, stderr()).toBe("completed");
    const q = JSON.parse((await send(port, "/api/runs/dlq/dead-letters")).text);
    expect(q.run).toBe(started.of);
    expect(q.pending).toEqual([]);
    expect(q.counts).toEqual({ total: 40, redriven: 35, dead: 5 });
    const after = sortedLines(cwd);
    expect(new Set(after).size).toBe(after.length);
    expect(after.length).toBeGreaterThan(before.length);
    // A filtered redrive of what the fixed pipeline still fails: it stays dead, the counts hold.
    const rest = await post({ reason: "blocked" });
    expect(rest.status, rest.text).toBe(202);
    expect(JSON.parse(rest.text).taken).toBe(1);
    let settled: { pending: unknown[]; counts: unknown } = { pending: [1], counts: {} };
    for (let i = 0; i < 600 && settled.pending.length; i++) {
      await new Promise((res) => setTimeout(res, 200));
      settled = JSON.parse((await send(port, "/api/runs/dlq/dead-letters")).text);
    }
    expect(settled).toMatchObject({ pending: [], counts: { total: 40, redriven: 35, dead: 5 } });

    child!.kill("SIGTERM");
    const code = await new Promise<number | null>((res) => child!.once("exit", (c) => res(c)));
    expect(code, stderr()).toBe(0);
    expect(stderr()).not.toMatch(/sluice http: /);
  };
}

/** Stopping the server mid-redrive interrupts it, resumable: `sluice resume` finishes it as if uninterrupted. */
function stopped(rt: RuntimeName) {
  return async (ctx: { skip: (note?: string) => void }) => {
    requireTool(ctx, available(rt), rt, "npm install (bun and deno are dev dependencies)");
    const cwd = workdir(root, `${rt}-stopped`, data);
    const home = join(cwd, ".s");
    const first = runCli(rt, ["run", fixture, "--quiet", "--home", home], { cwd });
    expect(first.code, first.stderr).toBe(0);
    // 300 ms per record in the slow stage: the 24 source-stage letters take 7 s.
    const { port, stderr } = await serve(rt, cwd, home, { SLUICE_DLQ_DELAY: "300" });
    const r = await send(port, "/api/runs/dlq/redrive", {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: `http://127.0.0.1:${port}` },
      body: "{}",
    });
    expect(r.status, r.text).toBe(202);
    const { run } = JSON.parse(r.text);
    child!.kill("SIGTERM");
    const code = await new Promise<number | null>((res) => child!.once("exit", (c) => res(c)));
    expect(code, stderr()).toBe(0);
    expect(stderr()).toContain(`sluice http: redrive ${run} of run`);
    expect(stderr()).toContain(`interrupted (sluice resume ${run} continues it)`);
    const resumed = runCli(rt, ["resume", run, "--quiet", "--home", home], {
      cwd,
      env: { SLUICE_DLQ_FIXED: "1" },
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    const q = JSON.parse(runCli(rt, ["dlq", "dlq", "--json", "--home", home], { cwd }).stdout);
    expect(q.counts).toEqual({ total: 40, redriven: 35, dead: 5 });
    const lines = sortedLines(cwd);
    expect(new Set(lines).size).toBe(lines.length);
  };
}

describe("redrive over HTTP (sluice serve --allow-writes)", () => {
  it("node: 202, 409 while it runs, completed in the runs API, counts reconcile", scenario("node"), 240_000);
  it("bun: the same", scenario("bun"), 240_000);
  it("deno: the same", scenario("deno"), 240_000);
  it("node: stopping the server interrupts the redrive; sluice resume finishes it", stopped("node"), 240_000);
  it("bun: stopped mid-redrive, then resumed", stopped("bun"), 240_000);
  it("deno: stopped mid-redrive, then resumed", stopped("deno"), 240_000);
});
