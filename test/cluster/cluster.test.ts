/**
 * The cluster parallelMap on a real nats-server and real `sluice worker` processes: output
 * byte-identical to a local parallelMap, poison records (throwing, and killing every worker
 * that takes them) dead-lettered with their attempts, a killed worker's tasks redelivered,
 * a stopped (hung) worker reported, a SIGTERM'd worker draining.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, sha, tempRoot } from "../faults/run-helpers.ts";
import {
  clusterFixture as fixture,
  localReference,
  midRun,
  slowEnv,
  startWorkers,
} from "../helpers/cluster.ts";
import { type NatsServer, natsServerPresent, requireNats, startNats } from "../helpers/nats.ts";

const root = tempRoot("sluice-cluster-");
let nats: NatsServer | undefined;
let reference = "";
const ROWS = "3000";

beforeAll(async () => {
  if (!natsServerPresent()) return;
  nats = await startNats();
  reference = await localReference(root, ROWS);
}, 120_000);

afterAll(async () => {
  await nats?.dispose();
  const { rmSync } = await import("node:fs");
  rmSync(root, { recursive: true, force: true });
});

async function dir(name: string): Promise<string> {
  const { mkdtempSync } = await import("node:fs");
  return mkdtempSync(join(root, `${name}-`));
}

/** Task results that came back on a redelivery, from the run's cluster.worker events. */
async function redelivered(cwd: string): Promise<number> {
  const e = await run(
    "node",
    ["events", "cluster-test", "--kind", "cluster.worker", "--json", "--home", join(cwd, ".s")],
    { cwd },
  );
  return lines(e.stdout).reduce((n, l) => n + (JSON.parse(l) as { redelivered: number }).redelivered, 0);
}

function lines(text: string): string[] {
  return text.split("\n").filter(Boolean);
}

async function deadLetters(
  cwd: string,
): Promise<Array<{ attempts?: number; reason: string; record?: { id?: string } }>> {
  const r = await run("node", ["dlq", "show", "cluster-test", "--json", "--home", join(cwd, ".s")], { cwd });
  expect(r.code, r.stderr).toBe(0);
  return lines(r.stdout).map((l) => JSON.parse(l));
}

describe("cluster parallelMap", () => {
  it("two workers: output byte-identical to the local pool; the workers show in sluice runs", async (ctx) => {
    requireNats(ctx);
    const cwd = await dir("identical");
    const workers = startWorkers(nats!.url, { count: 2, cwd });
    await workers.ready();
    const r = await run("node", ["run", fixture, "--home", join(cwd, ".s")], {
      cwd,
      env: { SLUICE_TEST_ROWS: ROWS, NATS_URL: nats!.url },
    });
    const exits = await workers.stop();
    expect(r.code, `${r.stderr}\n${workers.logs()}`).toBe(0);
    expect(readFileSync(join(cwd, "out.ndjson"), "utf8")).toBe(reference);
    expect(r.stdout).toMatch(/rows in 3,000 · out 3,000/);
    // SIGTERM drains: each worker exits 0 and says it stopped.
    for (const e of exits) {
      expect(e.code, e.stderr).toBe(0);
      expect(e.stderr).toMatch(/stopped/);
    }
    const runs = await run("node", ["runs", "cluster-test", "--json", "--home", join(cwd, ".s")], { cwd });
    const last = JSON.parse(lines(runs.stdout).at(-1) ?? "{}") as {
      clusterWorkers?: Array<{ records: number; tasks: number }>;
    };
    const cw = last.clusterWorkers ?? [];
    expect(cw.reduce((n, w) => n + w.records, 0)).toBe(3000);
    expect(cw.every((w) => w.tasks > 0)).toBe(true);
  }, 120_000);

  it("poison records: N throwing and N worker-killing records give 2N dead letters with attempts = max; the run completes", async (ctx) => {
    requireNats(ctx);
    const cwd = await dir("poison");
    const env = {
      SLUICE_TEST_ROWS: ROWS,
      NATS_URL: nats!.url,
      SLUICE_TEST_POISON: "17:throw,1200:throw,400:kill,2500:kill,50:bigout,60:bigin",
      SLUICE_TEST_ACK_WAIT: "1s",
    };
    const workers = startWorkers(nats!.url, { count: 2, cwd, restart: true });
    await workers.ready();
    const r = await run("node", ["run", fixture, "--home", join(cwd, ".s")], { cwd, env });
    await workers.stop();
    expect(r.code, `${r.stderr}\n${workers.logs()}`).toBe(0);
    expect(r.stdout).toMatch(/out 2,994 · filtered 0 · dead-lettered 6/);
    const letters = await deadLetters(cwd);
    const byId = new Map(letters.map((l) => [String(l.record?.id), l]));
    expect([...byId.keys()].sort()).toEqual(["1200", "17", "2500", "400", "50", "60"]);
    // retries: 1 on the worker's threads → 2 attempts; killed workers: maxDeliver 3 deliveries.
    expect(byId.get("17")?.attempts).toBe(2);
    expect(byId.get("400")?.attempts).toBe(3);
    expect(byId.get("400")?.reason).toMatch(/died or hung/);
    // Values JSON cannot carry, either way, are dead-lettered with what to do.
    expect(byId.get("50")?.reason).toMatch(/cannot be sent back as JSON.*BigInt/);
    expect(byId.get("60")?.reason).toMatch(/cannot be sent to a worker as JSON.*BigInt/);
    expect(workers.deaths()).toBeGreaterThanOrEqual(6);
    const expected = lines(reference).filter(
      (l) => ![17, 50, 60, 400, 1200, 2500].includes(JSON.parse(l).id),
    );
    expect(lines(readFileSync(join(cwd, "out.ndjson"), "utf8"))).toEqual(expected);
  }, 180_000);

  it("kill -9 of a worker mid-task: its tasks are redelivered, output identical", async (ctx) => {
    requireNats(ctx);
    const cwd = await dir("kill-worker");
    const { workers, coordinator } = await midRun(nats!.url, cwd, slowEnv(nats!.url, ROWS, "1s"));
    workers.procs[0].kill("SIGKILL");
    const r = await coordinator.exited;
    await workers.stop();
    expect(r.code, `${r.stderr}\n${workers.logs()}`).toBe(0);
    expect(workers.deaths()).toBe(1);
    expect(await redelivered(cwd), "the killed worker's tasks came back redelivered").toBeGreaterThan(0);
    expect(readFileSync(join(cwd, "out.ndjson"), "utf8")).toBe(reference);
  }, 120_000);

  it("a hung worker (SIGSTOP): its tasks go to another worker after the ack wait and it is reported", async (ctx) => {
    requireNats(ctx);
    const cwd = await dir("hung");
    const { workers, coordinator } = await midRun(nats!.url, cwd, slowEnv(nats!.url, ROWS, "1s"));
    const hung = workers.procs[0];
    hung.kill("SIGSTOP");
    const r = await coordinator.exited;
    hung.kill("SIGCONT");
    await workers.stop();
    expect(r.code, `${r.stderr}\n${workers.logs()}`).toBe(0);
    expect(readFileSync(join(cwd, "out.ndjson"), "utf8")).toBe(reference);
    expect(r.stderr).toMatch(
      new RegExp(`worker [^ ]+:${hung.pid}:node took task \\d+ .* did not finish it within the ack wait`),
    );
    const events = await run(
      "node",
      ["events", "cluster-test", "--kind", "cluster.worker", "--json", "--home", join(cwd, ".s")],
      { cwd },
    );
    const states = lines(events.stdout)
      .map((l) => JSON.parse(l))
      .filter((e) => e.pid === hung.pid)
      .map((e) => e.state);
    expect(states).toContain("hung");
  }, 120_000);

  it("SIGTERM to a worker mid-run: it finishes and reports its tasks in hand, exits 0; nothing is redelivered", async (ctx) => {
    requireNats(ctx);
    const cwd = await dir("drain");
    const { workers, coordinator } = await midRun(nats!.url, cwd, slowEnv(nats!.url, ROWS, "5s"));
    const drained = workers.procs[0];
    const gone = new Promise<number | null>((resolve) => drained.once("exit", (code) => resolve(code)));
    drained.kill("SIGTERM");
    expect(await gone).toBe(0);
    const r = await coordinator.exited;
    await workers.stop();
    expect(r.code, `${r.stderr}\n${workers.logs()}`).toBe(0);
    expect(workers.logs()).toMatch(/draining .* stopped|stopped/);
    expect(readFileSync(join(cwd, "out.ndjson"), "utf8")).toBe(reference);
    expect(await redelivered(cwd)).toBe(0);
  }, 120_000);

  it("one task per record (batch: 1) with a value JSON cannot carry: one dead letter, the rest identical", async (ctx) => {
    requireNats(ctx);
    const cwd = await dir("batch-1");
    const env = {
      SLUICE_TEST_ROWS: "6",
      NATS_URL: nats!.url,
      SLUICE_TEST_POISON: "2:bigin",
      SLUICE_TEST_BATCH: "1",
    };
    const workers = startWorkers(nats!.url, { count: 1, cwd, env });
    await workers.ready();
    const r = await run("node", ["run", fixture, "--home", join(cwd, ".s")], { cwd, env });
    await workers.stop();
    expect(r.code, `${r.stderr}\n${workers.logs()}`).toBe(0);
    expect(r.stdout).toMatch(/rows in 6 · out 5 · filtered 0 · dead-lettered 1/);
    const ids = lines(readFileSync(join(cwd, "out.ndjson"), "utf8")).map((l) => JSON.parse(l).id);
    expect(ids).toEqual([0, 1, 3, 4, 5]);
  }, 60_000);

  it("a worker that cannot load the module is reported and the others do the work", async (ctx) => {
    requireNats(ctx);
    const cwd = await dir("broken");
    const env = { SLUICE_TEST_ROWS: ROWS, NATS_URL: nats!.url };
    const broken = startWorkers(nats!.url, { count: 1, cwd, env: { ...env, SLUICE_TEST_BROKEN: "1" } });
    const good = startWorkers(nats!.url, { count: 1, cwd, env });
    await Promise.all([broken.ready(), good.ready()]);
    const r = await run("node", ["run", fixture, "--home", join(cwd, ".s")], { cwd, env });
    await Promise.all([broken.stop(), good.stop()]);
    expect(r.code, `${r.stderr}\n${good.logs()}${broken.logs()}`).toBe(0);
    expect(readFileSync(join(cwd, "out.ndjson"), "utf8")).toBe(reference);
    expect(r.stderr).toMatch(/cannot run file:.*work\.ts: .*broken.*copy it there/);
  }, 120_000);

  it("sha of the cluster output equals the local one on a second run (new run id, same bytes)", async (ctx) => {
    requireNats(ctx);
    const cwd = await dir("again");
    const workers = startWorkers(nats!.url, { count: 1, cwd, concurrency: 2 });
    await workers.ready();
    const env = { SLUICE_TEST_ROWS: ROWS, NATS_URL: nats!.url };
    const a = await run("node", ["run", fixture, "--quiet", "--home", join(cwd, ".s")], { cwd, env });
    expect(a.code, a.stderr).toBe(0);
    const first = sha(join(cwd, "out.ndjson"));
    const b = await run("node", ["run", fixture, "--quiet", "--fresh", "--home", join(cwd, ".s")], {
      cwd,
      env,
    });
    await workers.stop();
    expect(b.code, b.stderr).toBe(0);
    expect(sha(join(cwd, "out.ndjson"))).toBe(first);
  }, 120_000);
});
