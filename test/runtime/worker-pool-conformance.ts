/**
 * @module The worker pool's conformance checks, written once and run two ways: by vitest
 * (`test/runtime/worker-pool.test.ts` imports `conformanceChecks`) and directly on every runtime,
 * so crash, throw, hang, poison, ordering, drain and scaling behave the same on Node, Bun and Deno:
 *
 *   node --import tsx test/runtime/worker-pool-conformance.ts
 *   bun test/runtime/worker-pool-conformance.ts
 *   deno run -A test/runtime/worker-pool-conformance.ts
 *
 * Run directly it prints one line per check and exits non-zero if any fails. Checks that leave a
 * spinning thread behind on Deno (its terminate() cannot stop a busy loop) run last.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { pathToFileURL } from "node:url";
import {
  createWorkerPool,
  PoolClosedError,
  type PoolEvent,
  WorkerModuleError,
  type WorkerPoolOptions,
} from "../../src/operators/internal/worker-pool.ts";
import type { Op, Rec } from "../fixtures/workers/behave.ts";

export const runtimeName: "node" | "bun" | "deno" =
  "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

const fixture = (name: string): URL => new URL(`../fixtures/workers/${name}`, import.meta.url);
const recs = (n: number, ops: Record<number, Op> = {}, ms?: number): Rec[] =>
  Array.from({ length: n }, (_, v) => ({ op: ops[v] ?? "ok", v, ...(ms ? { ms } : {}) }));
const doubled = (n: number, except: number[] = []): Array<number | undefined> =>
  Array.from({ length: n }, (_, v) => (except.includes(v) ? undefined : v * 2));

function pool(options: Partial<WorkerPoolOptions> = {}) {
  const events: PoolEvent[] = [];
  const p = createWorkerPool<Rec, number>({
    module: fixture("behave.ts"),
    workers: 2,
    timeout: "2s",
    retries: 1,
    backoff: { initial: 5, max: 20 },
    onEvent: (e) => events.push(e),
    ...options,
  });
  return Object.assign(p, { events, kinds: () => events.map((e) => e.kind) });
}

async function rejectsWith(
  promise: Promise<unknown>,
  type: new (...a: never[]) => Error,
  text: RegExp,
): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  assert.match((error as Error).message, text);
}

async function eventually(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Check {
  name: string;
  /** Runtimes where the check cannot apply, with the reason. */
  skip?: Partial<Record<typeof runtimeName, string>>;
  run(): Promise<void>;
}

export const conformanceChecks: Check[] = [
  {
    name: "start rejects a missing module before any record",
    async run() {
      const p = pool({ module: fixture("no-such-module.ts") });
      await rejectsWith(p.start(), WorkerModuleError, /file not found: .*no-such-module\.ts/);
      await rejectsWith(p.run(recs(1)), WorkerModuleError, /file not found/);
    },
  },
  {
    name: "start rejects a module without a default-exported function",
    async run() {
      await rejectsWith(
        pool({ module: fixture("not-a-function.ts") }).start(),
        WorkerModuleError,
        /must default-export/,
      );
    },
  },
  {
    name: "start rejects a module that throws while loading",
    async run() {
      await rejectsWith(
        pool({ module: fixture("throws-on-load.ts") }).start(),
        WorkerModuleError,
        /missing configuration/,
      );
    },
  },
  {
    name: "results keep input order across workers, batches and concurrent runs",
    async run() {
      const p = pool({ batch: 3 });
      await p.start();
      const runs = [0, 1, 2].map((k) => {
        const rs: Rec[] = Array.from({ length: 60 }, (_, v) => ({
          op: v % 7 === k ? "slow" : "ok",
          v,
          ms: 2,
        }));
        return p.run(rs);
      });
      for (const r of await Promise.all(runs)) {
        assert.deepEqual(r.values, doubled(60));
        assert.deepEqual(r.failures, []);
      }
      const async = await p.run(recs(20, { 3: "async", 11: "async" }));
      assert.deepEqual(async.values, doubled(20));
      assert.ok(p.stats().reuseRate > 0);
      await p.close();
    },
  },
  {
    name: "poison records (throw, reject, uncloneable result) fail alone with error and attempts",
    async run() {
      const p = pool({ retries: 2 });
      const r = await p.run(recs(50, { 4: "throw", 17: "reject", 33: "unclone" }));
      assert.deepEqual(r.values, doubled(50, [4, 17, 33]));
      assert.deepEqual(
        r.failures.map((f) => [f.index, f.attempts, f.error.name, (f.record as Rec).v]),
        [
          [4, 3, "Error", 4],
          [17, 3, "RangeError", 17],
          [33, 3, "DataCloneError", 33],
        ],
      );
      assert.match(r.failures[0].error.message, /poison record 4/);
      const s = p.stats();
      assert.equal(s.failed, 3);
      assert.equal(s.completed, 47);
      assert.equal(s.retried, 6);
      assert.equal(p.kinds().filter((k) => k === "task.retried").length >= 2, true);
      await p.close();
    },
  },
  {
    name: "a record that calls process.exit costs only its worker; the batch's other records succeed",
    async run() {
      const p = pool({ batch: 16 });
      const r = await p.run(recs(40, { 9: "exit" }));
      assert.deepEqual(r.values, doubled(40, [9]));
      assert.deepEqual(
        r.failures.map((f) => [f.index, f.attempts, f.error.name]),
        [[9, 2, "WorkerExitError"]],
      );
      const replaced = p.events.filter((e) => e.kind === "worker.replaced");
      assert.equal(replaced.length, 2);
      assert.ok(
        replaced.every((e) => e.kind === "worker.replaced" && e.reason === "exit" && e.exitCode === 3),
      );
      await eventually("replacement workers", () => p.stats().workers === 2 && p.stats().starting === 0);
      assert.deepEqual((await p.run(recs(10))).values, doubled(10));
      await p.close();
    },
  },
  {
    name: "a chunk function failing on a poison record is bisected down to it",
    async run() {
      const p = pool({ module: fixture("chunk.ts"), mode: "chunk", batch: 8, retries: 0 });
      const r = await p.run(recs(32, { 5: "throw", 26: "throw" }));
      assert.deepEqual(r.values, doubled(32, [5, 26]));
      assert.deepEqual(
        r.failures.map((f) => [f.index, f.attempts, f.error.message]),
        [
          [5, 1, "poison in chunk"],
          [26, 1, "poison in chunk"],
        ],
      );
      assert.ok(p.kinds().includes("task.split"));
      const crash = await p.run(recs(16, { 12: "exit" }));
      assert.deepEqual(crash.values, doubled(16, [12]));
      assert.deepEqual(
        crash.failures.map((f) => f.index),
        [12],
      );
      await p.close();
    },
  },
  {
    name: "a flaky record is retried with backoff and succeeds",
    async run() {
      const p = pool({ workers: 1, retries: 2 });
      const r = await p.run(recs(10, { 6: "flaky" }));
      assert.deepEqual(r.values, doubled(10));
      const retried = p.events.find((e) => e.kind === "task.retried");
      assert.ok(retried && retried.kind === "task.retried" && retried.attempt === 2 && retried.records === 1);
      await p.close();
    },
  },
  {
    name: "queued high-priority work runs before queued low-priority work",
    async run() {
      const p = pool({ workers: 1, pipeline: 1, batch: 1 });
      await p.start();
      const count = (n: number): Rec[] => Array.from({ length: n }, (_, v) => ({ op: "count", v }));
      const low = p.run(count(5), { priority: "low" });
      const high = p.run(count(5), { priority: "high" });
      const [l, h] = await Promise.all([low, high]);
      assert.deepEqual(h.values, [2, 3, 4, 5, 6]);
      assert.deepEqual(l.values, [1, 7, 8, 9, 10]);
      const mixed = await p.run(count(4), { priority: (r) => (r.v % 2 === 0 ? "high" : "low") });
      assert.equal(mixed.values.length, 4);
      await p.close();
    },
  },
  {
    name: "graceful close drains in-flight work, then refuses new runs",
    async run() {
      const p = pool();
      await p.start();
      const running = p.run(recs(30, {}, 3).map((r) => ({ ...r, op: "slow" as const })));
      await p.close();
      assert.deepEqual((await running).values, doubled(30));
      await rejectsWith(p.run(recs(1)), PoolClosedError, /closed/);
      assert.equal(p.stats().workers, 0);
    },
  },
  {
    name: "workers scale up on queue depth and back down to min when idle",
    async run() {
      const p = pool({ workers: { min: 1, max: 2 }, idleTimeout: 300, heartbeat: { interval: 100 } });
      await p.start();
      assert.equal(p.stats().workers, 1);
      const r = await p.run(recs(200, {}, 1).map((x) => ({ ...x, op: "slow" as const })));
      assert.deepEqual(r.values, doubled(200));
      const up = p.events.find((e) => e.kind === "worker.scaled");
      assert.ok(up && up.kind === "worker.scaled" && up.reason === "queue-depth" && up.to === 2);
      await eventually("scale down", () =>
        p.events.some((e) => e.kind === "worker.scaled" && e.reason === "idle" && e.to === 1),
      );
      assert.equal(p.stats().workers, 1);
      await p.close();
    },
  },
  {
    name: "a worker out of memory is replaced and only its record fails",
    skip: { bun: "Bun ignores resourceLimits", deno: "Deno ignores resourceLimits" },
    async run() {
      const p = pool({ maxMemoryMB: 48, retries: 0 });
      const r = await p.run(recs(12, { 7: "oom" }));
      assert.deepEqual(r.values, doubled(12, [7]));
      assert.deepEqual(
        r.failures.map((f) => [f.index, f.error.code]),
        [[7, "ERR_WORKER_OUT_OF_MEMORY"]],
      );
      assert.ok(p.events.some((e) => e.kind === "worker.replaced" && e.reason === "out-of-memory"));
      await p.close();
    },
  },
  {
    name: "a record that loops forever times out, its worker is replaced, the run completes",
    async run() {
      const p = pool({ timeout: 1000, retries: 0, batch: 10 });
      const r = await p.run(recs(30, { 14: "hang" }));
      assert.deepEqual(r.values, doubled(30, [14]));
      assert.deepEqual(
        r.failures.map((f) => [f.index, f.attempts, f.error.name]),
        [[14, 1, "TaskTimeoutError"]],
      );
      assert.ok(p.events.some((e) => e.kind === "task.timeout" && e.records === 1));
      assert.ok(p.events.some((e) => e.kind === "worker.replaced" && e.reason === "timeout"));
      await p.close();
    },
  },
  {
    name: "an idle worker that stops answering heartbeats is replaced",
    async run() {
      const p = pool({ workers: 1, heartbeat: { interval: 50, timeout: 300 } });
      const r = await p.run(recs(3, { 1: "block-later" }));
      assert.deepEqual(r.values, doubled(3));
      await eventually("heartbeat replacement", () =>
        p.events.some((e) => e.kind === "worker.replaced" && e.reason === "heartbeat"),
      );
      assert.deepEqual((await p.run(recs(5))).values, doubled(5));
      await p.close();
    },
  },
];

/** Runs every check; returns true when all pass. */
export async function runConformance(log: (line: string) => void = console.log): Promise<boolean> {
  let failed = 0;
  for (const check of conformanceChecks) {
    const skip = check.skip?.[runtimeName];
    if (skip) {
      log(`SKIP ${check.name} (${skip})`);
      continue;
    }
    const t = performance.now();
    try {
      await check.run();
      log(`PASS ${check.name} (${Math.round(performance.now() - t)} ms)`);
    } catch (error) {
      failed++;
      log(`FAIL ${check.name}\n     ${(error as Error).stack ?? error}`);
    }
  }
  log(
    `${runtimeName}: ${conformanceChecks.length - failed} of ${conformanceChecks.length} checks passed or skipped`,
  );
  return failed === 0;
}

const meta = import.meta as ImportMeta & { main?: boolean };
const isMain =
  meta.main ?? (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url);
if (isMain) {
  const ok = await runConformance();
  // Deno keeps a thread stuck in a busy loop alive after terminate(); exit explicitly.
  process.exit(ok ? 0 : 1);
}
