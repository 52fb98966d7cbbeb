/**
 * The cluster on every runtime: workers on bun and deno under a node coordinator, and
 * coordinators on bun and deno with a node worker, all give the local pool's exact output.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, tempRoot } from "../faults/run-helpers.ts";
import { clusterFixture as fixture, localReference, startWorkers } from "../helpers/cluster.ts";
import { type NatsServer, natsServerPresent, requireNats, startNats } from "../helpers/nats.ts";
import { available, type RuntimeName } from "../helpers/runtimes.ts";

const root = tempRoot("sluice-cluster-rt-");
const ROWS = "1500";
let nats: NatsServer | undefined;
let reference = "";

beforeAll(async () => {
  if (!natsServerPresent()) return;
  nats = await startNats();
  reference = await localReference(root, ROWS);
}, 120_000);

afterAll(async () => {
  await nats?.dispose();
  rmSync(root, { recursive: true, force: true });
});

// One worker a case, so the runtime under test does all the work.
const cases: Array<{ coordinator: RuntimeName; workers: RuntimeName[] }> = [
  { coordinator: "node", workers: ["bun"] },
  { coordinator: "node", workers: ["deno"] },
  { coordinator: "bun", workers: ["node"] },
  { coordinator: "deno", workers: ["node"] },
];

describe("cluster on node, bun and deno", () => {
  for (const c of cases) {
    it(`coordinator on ${c.coordinator}, workers on ${c.workers.join(" and ")}: output identical`, async (ctx) => {
      requireNats(ctx);
      for (const rt of [c.coordinator, ...c.workers])
        expect(available(rt), `${rt} is missing: npm install`).toBe(true);
      const cwd = mkdtempSync(join(root, `${c.coordinator}-`));
      const env = { SLUICE_TEST_ROWS: ROWS, NATS_URL: nats!.url };
      const workers = startWorkers(nats!.url, { count: c.workers.length, runtime: c.workers, cwd, env });
      await workers.ready();
      const r = await run(c.coordinator, ["run", fixture, "--home", join(cwd, ".s")], { cwd, env });
      const exits = await workers.stop();
      expect(r.code, `${r.stderr}\n${workers.logs()}`).toBe(0);
      expect(readFileSync(join(cwd, "out.ndjson"), "utf8")).toBe(reference);
      for (const e of exits) expect(e.code, workers.logs()).toBe(0);
      // The worker's runtime did the work.
      const events = await run(
        "node",
        ["events", "cluster-test", "--kind", "cluster.worker", "--json", "--home", join(cwd, ".s")],
        { cwd },
      );
      const runtimes = new Set(
        events.stdout
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { runtime: string; tasks: number })
          .filter((e) => e.tasks > 0)
          .map((e) => e.runtime),
      );
      expect([...runtimes].sort()).toEqual([...c.workers].sort());
    }, 180_000);
  }
});
