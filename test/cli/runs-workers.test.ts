/**
 * `sluice runs` and `sluice metrics RUN` show a run's remote workers
 * (distributed parallelMap) from synthetic `cluster.worker` events: from the
 * journal for `runs` (text and --json), from the store for `metrics`; a run
 * without remote workers shows no such table.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { metricsCommand } from "../../src/cli/commands/metrics.ts";
import { runsCommand } from "../../src/cli/commands/runs.ts";
import type { SluiceEvent } from "../../src/events/schema.ts";
import { openJournal } from "../../src/journal/journal.ts";
import { openMetricsStore } from "../../src/metrics/store.ts";
import { stdout } from "../../src/runtime/process.ts";
import { clusterWorker, runEnded, runStarted, T0, tempHome } from "../metrics/fixtures.ts";

const home = tempHome("runs-workers");
afterAll(() => home.cleanup());

const CW = { runId: "20260105T100030000Z-c1", pipeline: "scores" };
const PLAIN = { runId: "20260105T100030000Z-b1", pipeline: "scores" };
const A = { stage: "2:score", host: "box-a", pid: 101 };
const B = { stage: "2:score", host: "box-b", pid: 202, runtime: "bun" };

const clustered: SluiceEvent[] = [
  runStarted(CW, T0, { stages: ["1:parse", "2:score"] }),
  clusterWorker(CW, T0 + 1000, { ...A, tasks: 4, records: 4000, busyMs: 1500 }),
  clusterWorker(CW, T0 + 1000, { ...B, tasks: 1, records: 1000, busyMs: 500, failures: 2 }),
  clusterWorker(CW, T0 + 2000, { ...A, tasks: 2, records: 2000, busyMs: 500, redelivered: 1 }),
  clusterWorker(CW, T0 + 2000, { ...B, state: "gone", redelivered: 3 }),
  runEnded(CW, T0 + 4000, { durationMs: 4000, rowsIn: 7000 }),
];
const plain: SluiceEvent[] = [runStarted(PLAIN, T0), runEnded(PLAIN, T0 + 1000, { rowsIn: 5 })];

async function writeJournal(run: { runId: string; pipeline: string }, events: SluiceEvent[]) {
  const dir = join(home.dir, run.pipeline, run.runId, "journal");
  mkdirSync(dir, { recursive: true });
  const j = await openJournal<SluiceEvent>(dir);
  for (const e of events) j.append(e);
  await j.close();
}

async function output(fn: () => Promise<number>): Promise<string> {
  let text = "";
  const spy = vi.spyOn(stdout, "write").mockImplementation((t: string) => {
    text += t;
  });
  try {
    expect(await fn()).toBe(0);
  } finally {
    spy.mockRestore();
  }
  return text;
}

beforeAll(async () => {
  await writeJournal(CW, clustered);
  await writeJournal(PLAIN, plain);
  const store = await openMetricsStore(home.dir, { flushIntervalMs: 3_600_000 });
  await store.ingest([...clustered, ...plain]);
  await store.close();
});

describe("remote workers in the CLI", () => {
  it("sluice runs: a table of the clustered run's workers below the list, none for the other", async () => {
    const text = await output(() => runsCommand(undefined, { home: home.dir, json: false }));
    expect(text).toMatch(/^RUN\s+PIPELINE\s+STATUS/m);
    expect(text).toMatch(new RegExp(`^${PLAIN.runId}\\s+scores\\s+completed\\s+5\\s`, "m"));
    expect(text).toContain(`remote workers of ${CW.runId} (BUSY: busy time over the run's 4.00 s):`);
    expect(text).not.toContain(`remote workers of ${PLAIN.runId}`);
    expect(text).toMatch(
      /^STAGE\s+HOST\s+PID\s+RUNTIME\s+TASKS\s+RECORDS\s+BUSY\s+FAILURES\s+REDELIVERED\s+STATE$/m,
    );
    expect(text).toMatch(/^2:score\s+box-a\s+101\s+node\s+6\s+6,000\s+50%\s+0\s+1\s+active$/m);
    expect(text).toMatch(/^2:score\s+box-b\s+202\s+bun\s+1\s+1,000\s+13%\s+2\s+3\s+gone$/m);
  });

  it("sluice runs --json: clusterWorkers only on the clustered run", async () => {
    const text = await output(() => runsCommand("scores", { home: home.dir, json: true }));
    const runs = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const cw = runs.find((r) => r.runId === CW.runId);
    expect(runs.find((r) => r.runId === PLAIN.runId)).not.toHaveProperty("clusterWorkers");
    expect(cw.clusterWorkers).toEqual([
      expect.objectContaining({
        workerId: "box-a:101:node",
        tasks: 6,
        records: 6000,
        busyMs: 2000,
        busyShare: 0.5,
        failures: 0,
        redelivered: 1,
        state: "active",
      }),
      expect.objectContaining({
        workerId: "box-b:202:bun",
        host: "box-b",
        pid: 202,
        runtime: "bun",
        busyShare: 0.125,
        failures: 2,
        redelivered: 3,
        state: "gone",
      }),
    ]);
  });

  it("sluice metrics RUN: a remote workers section from the store; none for a run without", async () => {
    const text = await output(() => metricsCommand(CW.runId, { home: home.dir, json: false }));
    expect(text).toContain("remote workers (busy: busy time over the run's duration):");
    expect(text).toMatch(/^2:score\s+box-a:101:node\s+6\s+6,000\s+50%\s+0\s+1\s+active$/m);
    expect(text).toMatch(/^2:score\s+box-b:202:bun\s+1\s+1,000\s+13%\s+2\s+3\s+gone$/m);
    const other = await output(() => metricsCommand(PLAIN.runId, { home: home.dir, json: false }));
    expect(other).not.toContain("remote workers");
  });
});
