/**
 * Test helper for the cluster tests: `sluice worker` processes on a runtime, optionally
 * supervised (a worker that dies is started again, as systemd would), with their logs kept;
 * the local pool's output of the cluster fixture (the reference); and a run caught mid-way.
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { type Exit, run, type Started, sleep, start, waitUntil } from "../faults/run-helpers.ts";
import { type RuntimeName, repo } from "./runtimes.ts";

export const clusterFixture = join(repo, "test/fixtures/cluster/pipeline.ts");

/** The fixture's output on local threads, for `rows` records (run in `root/local`). */
export async function localReference(root: string, rows: string): Promise<string> {
  const cwd = join(root, "local");
  mkdirSync(cwd);
  const r = await run("node", ["run", clusterFixture, "--quiet", "--home", join(cwd, ".s")], {
    cwd,
    env: { SLUICE_TEST_ROWS: rows },
  });
  expect(r.code, r.stderr).toBe(0);
  return readFileSync(join(cwd, "out.ndjson"), "utf8");
}

/** Records that take 2.5 ms each, blocked rather than spinning: a run of a few seconds, cheaply. */
export function slowEnv(url: string, rows: string, ackWait: string): Record<string, string> {
  return {
    SLUICE_TEST_ROWS: rows,
    NATS_URL: url,
    SLUICE_TEST_ACK_WAIT: ackWait,
    SLUICE_TEST_WORK_US: "0",
    SLUICE_TEST_SLEEP_US: "2500",
  };
}

/**
 * Two workers, then the run; returns once a worker has taken the job and worked on it for
 * `afterMs`, with the run still going (so a fault injected now lands mid-run).
 */
export async function midRun(
  url: string,
  cwd: string,
  env: Record<string, string>,
  afterMs = 1000,
): Promise<{ workers: Workers; coordinator: Started }> {
  const workers = startWorkers(url, { count: 2, cwd, env });
  await workers.ready();
  const coordinator = start("node", ["run", clusterFixture, "--home", join(cwd, ".s")], { cwd, env });
  await waitUntil(() => /took job/.test(workers.live()) || coordinator.done(), 30_000, 50);
  await sleep(afterMs);
  expect(coordinator.done(), "the run ended before the fault could be injected").toBe(false);
  return { workers, coordinator };
}

export interface Workers {
  /** The live processes (a restarted worker replaces its slot). */
  readonly procs: ChildProcess[];
  /** Deaths that were not asked for (the supervisor restarted them). */
  readonly deaths: () => number;
  readonly logs: () => string;
  /** What the workers wrote to stderr so far (status lines, "took job …"). */
  readonly live: () => string;
  /** Resolves once every worker has connected and shown its status line. */
  ready(): Promise<void>;
  /** SIGTERM to all (they drain), waits for them; returns their exits. */
  stop(): Promise<Exit[]>;
}

export function startWorkers(
  url: string,
  opts: {
    count: number;
    runtime?: RuntimeName | RuntimeName[];
    concurrency?: number;
    restart?: boolean;
    cwd: string;
    env?: Record<string, string>;
  },
): Workers {
  const procs: ChildProcess[] = [];
  const exits: Array<Promise<Exit>> = [];
  let stopping = false;
  let deaths = 0;
  let logs = "";
  let live = "";
  const launch = (i: number) => {
    const runtime = Array.isArray(opts.runtime)
      ? opts.runtime[i % opts.runtime.length]
      : (opts.runtime ?? "node");
    const w = start(runtime, ["worker", "--nats", url, "--concurrency", String(opts.concurrency ?? 1)], {
      cwd: opts.cwd,
      env: opts.env,
    });
    procs[i] = w.proc;
    w.proc.stderr?.on("data", (d) => {
      live += String(d);
    });
    exits[i] = w.exited.then((e) => {
      logs += `--- worker ${i} (${runtime}) exit ${e.code ?? e.signal}\n${e.stderr}`;
      if (!stopping) {
        deaths++;
        if (opts.restart) launch(i);
      }
      return e;
    });
  };
  for (let i = 0; i < opts.count; i++) launch(i);
  return {
    procs,
    deaths: () => deaths,
    logs: () => logs,
    live: () => live,
    async ready() {
      const deadline = Date.now() + 30_000;
      while (new Set([...live.matchAll(/sluice worker (\S+) ·/g)].map((m) => m[1])).size < opts.count) {
        if (Date.now() > deadline) throw new Error(`workers not ready in 30 s:\n${live}${logs}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      stopping = true;
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
      return Promise.all(exits);
    },
  };
}
