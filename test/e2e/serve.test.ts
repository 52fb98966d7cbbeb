/**
 * The server's lifecycle and `/metrics` as a user meets them, on node, bun and
 * deno (issue 15 item 8): `sluice run FILE --serve` stops serving when the run
 * ends and says so; `--keep-serving` keeps the server up until Ctrl-C;
 * `sluice serve` exports each pipeline's latest completed run per stage on
 * `/metrics`; both expositions pass `promtool check metrics`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { available, cli, command, type RuntimeName, repo, runCli } from "../helpers/runtimes.ts";
import { hasTool, requireTool } from "../helpers/tools.ts";

const runtimes: RuntimeName[] = ["node", "bun", "deno"];
const root = mkdtempSync(join(tmpdir(), "sluice-serve-"));
const tiny = join(repo, "test/fixtures/pipelines/tiny.ts");
const promtool = hasTool("promtool", ["--version"]);
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Proc {
  readonly child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code, or null if the process is still up after `ms`. */
  exit(ms: number): Promise<number | null>;
  /** Resolves when stderr matches (rejects when the process exits first). */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
}

const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

function sluice(rt: RuntimeName, args: string[], cwd: string): Proc {
  const [bin, ...pre] = command(rt);
  const child = spawn(bin, [...pre, cli, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child);
  let err = "";
  const listeners: Array<() => void> = [];
  child.stderr!.on("data", (d) => {
    err += d;
    for (const l of listeners) l();
  });
  child.stdout!.resume();
  const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    child,
    stderr: () => err,
    exit: (ms) => Promise.race([closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), ms))]),
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(err);
          if (m) resolve(m);
        };
        listeners.push(check);
        check();
        void closed.then((code) => reject(new Error(`exited ${code} before ${pattern}: ${err}`)));
      }),
  };
}

function checkMetrics(text: string): void {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
}

const LISTENING = /serving the API and dashboard at (http:\/\/\S+?)\/?\n/;

describe.each(runtimes)("serving on %s", (rt) => {
  it(`${rt} is installed (npm install brings all three runtimes)`, () => {
    expect(available(rt), `${rt} binary missing under node_modules/.bin — run npm install`).toBe(true);
  });

  it("`sluice run FILE --serve 0` stops serving when the run ends, says so, and exits 0", async () => {
    const cwd = mkdtempSync(join(root, `${rt}-run-`));
    const p = sluice(rt, ["run", tiny, "--serve", "0", "--home", join(cwd, ".s")], cwd);
    const url = (await p.waitFor(LISTENING))[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const code = await p.exit(60_000);
    expect(code, `still running 60 s after start: ${p.stderr()}`).toBe(0);
    expect(p.stderr()).toMatch(
      /run ended; stopped serving at http:\/\/\S+ \(--keep-serving keeps the dashboard up/,
    );
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  }, 90_000);

  it("`--serve` on a run that fails exits with the run's code and stops serving", async () => {
    const cwd = mkdtempSync(join(root, `${rt}-fail-`));
    const missing = join(repo, "test/fixtures/pipelines/missing-input.ts");
    const p = sluice(rt, ["run", missing, "--serve", "0", "--home", join(cwd, ".s")], cwd);
    const url = (await p.waitFor(LISTENING))[1];
    const code = await p.exit(60_000);
    expect(code, `still running 60 s after start: ${p.stderr()}`).toBe(1);
    expect(p.stderr()).toContain("input file not found");
    expect(p.stderr()).toMatch(/stopped serving at http:\/\/\S+/);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  }, 90_000);

  it("`--keep-serving` keeps the server up after the run until SIGINT; its /metrics passes promtool", async (ctx) => {
    requireTool(ctx, promtool, "promtool", "apt-get install -y prometheus");
    const cwd = mkdtempSync(join(root, `${rt}-keep-`));
    const p = sluice(rt, ["run", tiny, "--serve", "0", "--keep-serving", "--home", join(cwd, ".s")], cwd);
    const url = (await p.waitFor(LISTENING))[1];
    await p.waitFor(/run ended; still serving at \S+ \(--keep-serving; Ctrl-C to stop\)/);
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: "ok" });
    // The server thread gets the run's last events by message: poll until they are in.
    const done = /^sluice_runs_ended_total\{pipeline="tiny",status="completed"\} 1$/m;
    let text = "";
    for (let i = 0; i < 100 && !done.test(text); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
      text = await (await fetch(`${url}/metrics`)).text();
    }
    expect(text, text).toMatch(done);
    expect(text, text).toMatch(/^sluice_stage_rows_in_total\{pipeline="tiny",stage="source"\} 100$/m);
    checkMetrics(text);
    p.child.kill("SIGINT");
    expect(await p.exit(30_000)).toBe(0);
  }, 90_000);

  it("`--keep-serving` without `--serve` is a usage error", () => {
    const r = runCli(rt, ["run", tiny, "--keep-serving"], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--keep-serving only applies with --serve");
  });

  it("`sluice serve` exports the latest completed run per stage on /metrics; promtool accepts it", async (ctx) => {
    requireTool(ctx, promtool, "promtool", "apt-get install -y prometheus");
    const cwd = mkdtempSync(join(root, `${rt}-past-`));
    const home = join(cwd, ".s");
    for (let i = 0; i < 2; i++)
      expect(runCli(rt, ["run", tiny, "--fresh", "--quiet", "--home", home], { cwd }).code).toBe(0);
    // What the store holds for the latest completed run, per stage.
    const q = runCli(
      rt,
      [
        "sql",
        "SELECT run_id, stage, rows_in, rows_out, chunks FROM stage_totals WHERE run_id = (SELECT max(run_id) FROM runs WHERE status = 'completed') ORDER BY stage",
        "--json",
        "--home",
        home,
      ],
      { cwd },
    );
    expect(q.code, q.stderr).toBe(0);
    const stages = JSON.parse(q.stdout) as Array<{
      run_id: string;
      stage: string;
      rows_in: number;
      rows_out: number;
      chunks: number;
    }>;
    expect(stages.map((s) => s.stage).sort()).toEqual(["1:map", "sink", "source"]);

    const p = sluice(rt, ["serve", "--port", "0", "--home", home], cwd);
    const url = (await p.waitFor(LISTENING))[1];
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain(
      `sluice_last_run_info{pipeline="tiny",run_id="${stages[0].run_id}",runtime="${rt}"} 1`,
    );
    for (const s of stages) {
      const l = `{pipeline="tiny",stage="${s.stage}"}`;
      expect(text).toContain(`sluice_last_run_stage_rows_in${l} ${Number(s.rows_in)}\n`);
      expect(text).toContain(`sluice_last_run_stage_rows_out${l} ${Number(s.rows_out)}\n`);
      expect(text).toContain(`sluice_last_run_stage_chunk_latency_seconds_count${l} ${Number(s.chunks)}\n`);
    }
    expect(text).toContain("sluice_metrics_store_up 1\n");
    checkMetrics(text);
    p.child.kill("SIGINT");
    expect(await p.exit(30_000)).toBe(0);
  }, 120_000);
});

describe("`sluice serve` catching up while serving", () => {
  it("a journal it cannot read is reported once, not every 2 s; later runs still reach the API", async () => {
    const cwd = mkdtempSync(join(root, "node-unreadable-"));
    const home = join(cwd, ".s");
    expect(runCli("node", ["run", tiny, "--quiet", "--home", home], { cwd }).code).toBe(0);
    // The run's journal as a newer sluice would write it: this version cannot read it.
    const [runId] = readdirSync(join(home, "tiny")).filter((d) => /^\d/.test(d));
    const dir = join(home, "tiny", runId, "journal");
    const seg = join(dir, readdirSync(dir).filter((f) => f.endsWith(".seg"))[0]);
    const bytes = readFileSync(seg);
    bytes[8] = 99;
    writeFileSync(seg, bytes);

    const p = sluice("node", ["serve", "--port", "0", "--home", home], cwd);
    const url = (await p.waitFor(LISTENING))[1];
    expect(p.stderr()).toMatch(
      new RegExp(`warning: run ${runId} of pipeline tiny: not loaded into the metrics store`),
    );
    expect(runCli("node", ["run", tiny, "--fresh", "--quiet", "--home", home], { cwd }).code).toBe(0);
    let listed = "";
    for (let i = 0; i < 100 && !/"status":"completed"/.test(listed); i++) {
      await new Promise((r) => setTimeout(r, 200));
      listed = await (await fetch(`${url}/api/runs`)).text();
    }
    expect(listed).toMatch(/"status":"completed"/);
    // Two more catch-ups (every 2 s) meet the same journal: still one warning.
    await new Promise((r) => setTimeout(r, 4500));
    expect(p.stderr().match(/not loaded into the metrics store/g)).toHaveLength(1);
    p.child.kill("SIGINT");
    expect(await p.exit(30_000)).toBe(0);
  }, 90_000);
});
