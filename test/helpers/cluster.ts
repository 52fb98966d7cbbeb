/**
 * Test helper for the cluster tests: `sluice worker` processes on a runtime, optionally
 * supervised (a worker that dies is started again, as systemd would), with their logs kept.
 */
import type { ChildProcess } from "node:child_process";
import { type Exit, start } from "../faults/run-helpers.ts";
import type { RuntimeName } from "./runtimes.ts";

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
