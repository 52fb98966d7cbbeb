/**
 * The cluster parallelMap on a real nats-server and real `sluice worker` processes: output
 * byte-identical to a local parallelMap, poison records (throwing, and killing every worker
 * that takes them) dead-lettered with their attempts, a killed worker's tasks redelivered,
 * a stopped (hung) worker reported, a SIGTERM'd worker draining.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, sha, sleep, start, tempRoot, waitUntil } from "../faults/run-helpers.ts";
import { startWorkers } from "../helpers/cluster.ts";
import { type NatsServer, natsServerPresent, requireNats, startNats } from "../helpers/nats.ts";
import { repo } from "../helpers/runtimes.ts";

const fixture = join(repo, "test/fixtures/cluster/pipeline.ts");
const root = tempRoot("sluice-cluster-");
let nats: NatsServer | undefined;
let reference = "";
const ROWS = "3000";

beforeAll(async () => {
  if (!natsServerPresent()) return;
  nats = await startNats();
  const cwd = join(root, "local");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(cwd);
  const r = await run("node", ["run", fixture, "--quiet", "--home", join(cwd, ".s")], {
    cwd,
    env: { SLUICE_TEST_ROWS: ROWS },
  });
  expect(r.code, r.stderr).toBe(0);
  reference = readFileSync(join(cwd, "out.ndjson"), "utf8");
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
    const env = {
      SLUICE_TEST_ROWS: ROWS,
      NATS_URL: nats!.url,
      SLUICE_TEST_ACK_WAIT: "1s",
      SLUICE_TEST_WORK_US: "1000",
    };
    const workers = startWorkers(nats!.url, { count: 2, cwd, env });
    await workers.ready();
    const coordinator = start("node", ["run", fixture, "--home", join(cwd, ".s")], { cwd, env });
    // Once the first worker has taken a job and finished tasks, kill it.
    await waitUntil(() => /took job/.test(workers.live()) || coordinator.done(), 30_000, 50);
    await sleep(1000);
    workers.procs[0].kill("SIGKILL");
    const r = await coordinator.exited;
    await workers.stop();
    expect(r.code, `${r.stderr}\n${workers.logs()}`).toBe(0);
    expect(workers.deaths()).toBe(1);
    expect(readFileSync(join(cwd, "out.ndjson"), "utf8")).toBe(reference);
  }, 120_000);

  it("a hung worker (SIGSTOP): its tasks go to another worker after the ack wait and it is reported", async (ctx) => {
    requireNats(ctx);
    const cwd = await dir("hung");
    const env = {
      SLUICE_TEST_ROWS: ROWS,
      NATS_URL: nats!.url,
      SLUICE_TEST_ACK_WAIT: "1s",
      SLUICE_TEST_WORK_US: "1000",
    };
    const workers = startWorkers(nats!.url, { count: 2, cwd, env });
    await workers.ready();
    const coordinator = start("node", ["run", fixture, "--home", join(cwd, ".s")], { cwd, env });
    await waitUntil(() => /took job/.test(workers.live()) || coordinator.done(), 30_000, 50);
    await sleep(1000);
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
