/**
 * Crashes around a cluster parallelMap, on real processes and a real nats-server: kill -9 of
 * the coordinator (the next `sluice run` resumes from the checkpoint), and kill -9 of
 * nats-server restarted on the same store dir (the run carries on). Both end with exactly the
 * output of the local pool.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { journalBytes, run, sleep, start, tempRoot, waitUntil } from "../faults/run-helpers.ts";
import {
  clusterFixture as fixture,
  localReference,
  midRun,
  slowEnv,
  startWorkers,
} from "../helpers/cluster.ts";
import { natsServerPresent, requireNats, startNats } from "../helpers/nats.ts";

const root = tempRoot("sluice-cluster-faults-");
const ROWS = "3000";
let reference = "";

beforeAll(async () => {
  if (!natsServerPresent()) return;
  reference = await localReference(root, ROWS);
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("cluster faults", () => {
  it("kill -9 of the coordinator after a checkpoint: the next run resumes and the output is identical", async (ctx) => {
    requireNats(ctx);
    const nats = await startNats();
    try {
      const cwd = mkdtempSync(join(root, "coordinator-"));
      const home = join(cwd, ".s");
      const env = slowEnv(nats.url, ROWS, "1s");
      const workers = startWorkers(nats.url, { count: 2, cwd, env });
      await workers.ready();
      const first = start("node", ["run", fixture, "--home", home], { cwd, env });
      // A durable checkpoint first (the journal grows past run.started), then the kill.
      const base = await (async () => {
        await waitUntil(() => journalBytes(home, "cluster-test") > 0 || first.done(), 30_000);
        return journalBytes(home, "cluster-test");
      })();
      await waitUntil(() => journalBytes(home, "cluster-test") > base + 200 || first.done(), 60_000);
      expect(first.done(), "the run ended before it could be killed").toBe(false);
      first.proc.kill("SIGKILL");
      await first.exited;
      const second = await run("node", ["run", fixture, "--home", home], { cwd, env });
      await workers.stop();
      expect(second.code, `${second.stderr}\n${workers.logs()}`).toBe(0);
      expect(second.stdout + second.stderr).toMatch(/resum/i);
      expect(readFileSync(join(cwd, "out.ndjson"), "utf8")).toBe(reference);
    } finally {
      await nats.dispose();
    }
  }, 180_000);

  it("kill -9 of nats-server mid-run, restarted on the same store dir: the run carries on, output identical", async (ctx) => {
    requireNats(ctx);
    const nats = await startNats();
    try {
      const cwd = mkdtempSync(join(root, "server-"));
      const { workers, coordinator } = await midRun(nats.url, cwd, slowEnv(nats.url, ROWS, "1s"), 800);
      await nats.stop(true);
      await sleep(1500);
      await nats.restart();
      const r = await coordinator.exited;
      await workers.stop();
      expect(r.code, `${r.stderr}\n${workers.logs()}`).toBe(0);
      expect(workers.deaths()).toBe(0);
      expect(readFileSync(join(cwd, "out.ndjson"), "utf8")).toBe(reference);
    } finally {
      await nats.dispose();
    }
  }, 180_000);
});
