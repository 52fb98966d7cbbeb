/**
 * @module The pool's scheduling decisions on virtual time, with no threads: a fake host records
 * what the scheduler posts and answers for the "workers", and a `VirtualClock` moves time. Covers
 * batching and pipelining, priorities, blame by progress, bisection, retries with backoff,
 * timeouts, heartbeats, scaling, drain/close and fatal module errors.
 */
import { describe, expect, test } from "vitest";
import {
  backoffDelay,
  type PoolConfigInput,
  resolvePoolConfig,
} from "../../src/operators/internal/pool-config.ts";
import {
  PoolClosedError,
  type PoolEvent,
  type PoolHost,
  type SerializedError,
  type ToWorker,
  type WorkerListener,
  WorkerModuleError,
} from "../../src/operators/internal/pool-protocol.ts";
import { createPoolScheduler } from "../../src/operators/internal/pool-scheduler.ts";
import { ConfigError } from "../../src/pipeline/errors.ts";
import { VirtualClock } from "../../src/testing/virtual-clock.ts";

type RunMsg = Extract<ToWorker, { t: "run" }>;
type Answer = (record: unknown) => unknown;

class FakeWorker {
  readonly pending: RunMsg[] = [];
  readonly runs: RunMsg[] = [];
  pings = 0;
  answersPings = true;
  progress: { seq: number; index: number } | null = { seq: 0, index: 0 };
  terminated = false;
  constructor(
    readonly id: number,
    readonly listener: WorkerListener,
  ) {}
  ready(): void {
    this.listener.message({ t: "ready" });
  }
  /** Answers the oldest pending batch, mapping each record (an Error result = that record throws). */
  answer(fn: Answer = (r) => (r as number) * 2, msPerRecord = 0.01): void {
    const m = this.pending.shift()!;
    const values: unknown[] = [];
    const errors: Array<[number, SerializedError]> = [];
    m.records.forEach((r, i) => {
      const v = fn(r);
      if (v instanceof Error) errors.push([i, { name: v.name, message: v.message }]);
      else values[i] = v;
    });
    this.progress = { seq: m.seq, index: m.records.length };
    const ms = msPerRecord * m.records.length;
    this.listener.message({
      t: "done",
      seq: m.seq,
      values,
      errors: errors.length ? errors : null,
      failed: null,
      ms,
    });
  }
  exit(code: number, error: SerializedError | null = null): void {
    this.listener.exit(code, error);
  }
}

class FakeHost implements PoolHost {
  readonly workers: FakeWorker[] = [];
  spawnError: Error | null = null;
  spawn(id: number, listener: WorkerListener) {
    if (this.spawnError) throw this.spawnError;
    const w = new FakeWorker(id, listener);
    this.workers.push(w);
    return {
      post: (m: ToWorker) => {
        structuredClone(m); // throws like postMessage on what cannot cross threads
        if (m.t === "ping") {
          w.pings++;
          if (w.answersPings) queueMicrotask(() => w.terminated || listener.message({ t: "pong" }));
        } else {
          w.pending.push(m);
          w.runs.push(m);
        }
      },
      progress: () => w.progress,
      terminate: () => {
        w.terminated = true;
      },
    };
  }
  get live(): FakeWorker[] {
    return this.workers.filter((w) => !w.terminated);
  }
  readyAll(): void {
    for (const w of this.live) w.ready();
  }
  /** Answers every batch of every live worker until none is pending. */
  pump(fn?: Answer, msPerRecord?: number): void {
    for (let busy = true; busy; ) {
      busy = false;
      for (const w of this.live) {
        while (w.pending.length > 0 && !w.terminated) {
          w.answer(fn, msPerRecord);
          busy = true;
        }
      }
    }
  }
}

function setup(input: PoolConfigInput = {}, cores = 4) {
  const host = new FakeHost();
  const clock = new VirtualClock();
  const events: PoolEvent[] = [];
  const config = resolvePoolConfig({ workers: 1, backoff: { initial: 10, jitter: 0 }, ...input }, cores);
  const pool = createPoolScheduler<number, number>({
    config,
    host,
    clock,
    random: () => 0.5,
    onEvent: (e) => events.push(e),
    moduleName: "file:///score.ts",
  });
  const start = async () => {
    const p = pool.start();
    host.readyAll();
    await p;
  };
  const kinds = () => events.map((e) => e.kind);
  return { host, clock, events, kinds, pool, config, start };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const doubled = (n: number, except: number[] = []) =>
  range(n).map((i) => (except.includes(i) ? undefined : i * 2));
const poison =
  (...bad: number[]): Answer =>
  (r) =>
    bad.includes(r as number) ? new Error(`poison ${r}`) : (r as number) * 2;

describe("pool config", () => {
  test("auto workers are cores - 1, at least 1; counts and ranges are checked", () => {
    expect(resolvePoolConfig({}, 8)).toMatchObject({
      min: 7,
      max: 7,
      retries: 2,
      timeoutMs: 30_000,
      batch: "auto",
    });
    expect(resolvePoolConfig({}, 1)).toMatchObject({ min: 1, max: 1 });
    expect(
      resolvePoolConfig({ workers: { min: 0, max: 3 }, timeout: "250ms", idleTimeout: "1m" }, 2),
    ).toMatchObject({
      min: 0,
      max: 3,
      timeoutMs: 250,
      idleTimeoutMs: 60_000,
    });
    expect(resolvePoolConfig({ timeout: false }, 2).timeoutMs).toBe(Number.POSITIVE_INFINITY);
    expect(() => resolvePoolConfig({ workers: { min: 3, max: 2 } }, 2)).toThrow(ConfigError);
    expect(() => resolvePoolConfig({ workers: 0 }, 2)).toThrow(/workers/);
    expect(() => resolvePoolConfig({ batch: 0 }, 2)).toThrow(/batch/);
    expect(() => resolvePoolConfig({ timeout: "soon" as never }, 2)).toThrow(ConfigError);
  });

  test("backoff doubles from initial, is capped, and randomises the jitter share", () => {
    const c = resolvePoolConfig({ backoff: { initial: 100, max: 1000, jitter: 0.5 } }, 2);
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(c, a, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(c, a, () => 0))).toEqual([50, 100, 200, 400, 500]);
  });
});

describe("pool start", () => {
  test("spawns the warm workers and resolves once all are ready", async () => {
    const { host, pool, events } = setup({ workers: { min: 2, max: 4 } });
    let started = false;
    const p = pool.start().then(() => {
      started = true;
    });
    expect(host.workers).toHaveLength(2);
    host.workers[0].ready();
    await Promise.resolve();
    expect(started).toBe(false);
    host.workers[1].ready();
    await p;
    expect(events.filter((e) => e.kind === "worker.started" && e.reason === "warm")).toHaveLength(2);
  });

  test("rejects before any record when the module cannot be spawned or has no function", async () => {
    const a = setup();
    a.host.spawnError = new Error("file not found: /x/score.ts");
    await expect(a.pool.start()).rejects.toThrow(/file:\/\/\/score.ts cannot be started: file not found/);
    await expect(a.pool.run([1])).rejects.toBeInstanceOf(WorkerModuleError);

    const b = setup();
    const p = b.pool.start();
    b.host.workers[0].listener.message({
      t: "init-error",
      error: { name: "TypeError", message: "must default-export" },
    });
    await expect(p).rejects.toThrow(/must default-export/);
    expect(b.host.workers[0].terminated).toBe(true);
  });

  test("rejects when a worker never gets ready", async () => {
    const { pool, clock } = setup({ startTimeout: "5s" });
    const p = pool.start();
    const outcome = p.catch((e: unknown) => e);
    await clock.advance(5_001);
    expect(await outcome).toBeInstanceOf(WorkerModuleError);
  });
});

describe("dispatch", () => {
  test("cuts batches, keeps `pipeline` of them in flight per worker, and aligns results", async () => {
    const { host, pool, start } = setup({ workers: 2, batch: 4, pipeline: 2 });
    await start();
    const run = pool.run(range(20));
    const [a, b] = host.workers;
    expect(a.pending.map((m) => m.records)).toEqual([
      [0, 1, 2, 3],
      [8, 9, 10, 11],
    ]);
    expect(b.pending.map((m) => m.records)).toEqual([
      [4, 5, 6, 7],
      [12, 13, 14, 15],
    ]);
    // Answer out of order: the second worker first, then the rest.
    b.answer();
    b.answer();
    host.pump();
    expect((await run).values).toEqual(doubled(20));
    expect(pool.stats()).toMatchObject({ completed: 20, batches: 5, inFlight: { batches: 0, records: 0 } });
  });

  test("auto batches follow the measured cost per record and spread a run over the workers", async () => {
    const { host, pool, start, clock } = setup({ workers: 2 });
    await start();
    const first = pool.run(range(8));
    expect(host.workers.map((w) => w.pending[0]?.records.length)).toEqual([2, 2]); // 8 records / (2 workers × 2)
    await clock.advance(20);
    host.pump(undefined, 1); // 1 ms per record: 8 ms of work on 2 workers over 20 ms
    await first;
    expect(pool.stats().utilisation).toBeCloseTo(8 / 40);
    expect(pool.stats().batchSize).toBe(5); // about 5 ms of work per message
    const cheap = pool.run(range(10_000));
    host.pump(undefined, 0.0001);
    await cheap;
    expect(pool.stats().batchSize).toBe(1024);
  });

  test("a record that cannot be sent fails alone; the rest of its batch goes on", async () => {
    const { host, pool, start } = setup({ batch: 8 });
    await start();
    const run = pool.run([1, (() => 2) as unknown as number, 3]);
    host.pump();
    const r = await run;
    expect(r.values).toEqual([2, undefined, 6]);
    expect(r.failures.map((f) => [f.index, f.attempts, f.error.name])).toEqual([[1, 0, "DataCloneError"]]);
  });
});

describe("priorities", () => {
  test("queued high runs before normal before low; per-record priority splits a run", async () => {
    const { host, pool, start } = setup({ batch: 1, pipeline: 1 });
    await start();
    const low = pool.run([100], { priority: "low" }); // dispatched at once: the worker is idle
    const runs = [
      pool.run([1, 2], { priority: "low" }),
      pool.run([3], { priority: "normal" }),
      pool.run([4, 5], { priority: (r) => (r === 5 ? "high" : "low") }),
      pool.run([6], { priority: "high" }),
    ];
    expect(pool.stats().queued).toEqual({ high: 2, normal: 1, low: 3 });
    host.pump();
    await Promise.all([low, ...runs]);
    expect(host.workers[0].runs.map((m) => m.records[0])).toEqual([100, 5, 6, 3, 1, 2, 4]);
  });

  test("a waiting low queue is served after being passed over 8 times", async () => {
    const { host, pool, start } = setup({ batch: 1, pipeline: 1 });
    await start();
    const busy = pool.run([0]);
    const low = pool.run([-1], { priority: "low" });
    const high = pool.run(
      range(20).map((i) => i + 1),
      { priority: "high" },
    );
    host.pump();
    await Promise.all([busy, low, high]);
    expect(host.workers[0].runs.map((m) => m.records[0]).indexOf(-1)).toBe(9);
  });
});

describe("failures", () => {
  test("a throwing record is retried after backoff, then dead-lettered with its attempts", async () => {
    const { host, pool, start, clock, events } = setup({ retries: 2, batch: 10 });
    await start();
    const run = pool.run(range(10));
    host.pump(poison(3));
    expect(pool.stats().retrying).toBe(1);
    expect(host.workers[0].pending).toHaveLength(0); // waits out the backoff
    await clock.advance(10);
    expect(host.workers[0].pending.map((m) => m.records)).toEqual([[3]]);
    host.pump(poison(3));
    await clock.advance(20);
    host.pump(poison(3));
    const r = await run;
    expect(r.values).toEqual(doubled(10, [3]));
    expect(3 in r.values).toBe(true);
    expect(r.failures).toEqual([
      { index: 3, record: 3, attempts: 3, error: { name: "Error", message: "poison 3" } },
    ]);
    expect(
      events
        .filter((e) => e.kind === "task.retried")
        .map((e) => e.kind === "task.retried" && [e.attempt, e.delayMs]),
    ).toEqual([
      [2, 10],
      [3, 20],
    ]);
    expect(pool.stats()).toMatchObject({ completed: 9, failed: 1, retried: 2 });
  });

  test("a crash charges the record the worker was on; finished and unreached records re-run free", async () => {
    const { host, pool, start, clock, events } = setup({ retries: 0, batch: 5, pipeline: 2 });
    await start();
    const run = pool.run(range(10));
    const w = host.workers[0];
    w.progress = { seq: 1, index: 2 }; // finished records 0 and 1 of batch 1, was running record 2
    w.exit(1, { name: "Error", message: "segfault-ish" });
    expect(w.terminated).toBe(true);
    const replacement = host.workers[1];
    replacement.ready();
    expect(replacement.pending.map((m) => m.records)).toEqual([
      [0, 1],
      [3, 4],
    ]);
    host.pump();
    await clock.advance(1);
    const r = await run;
    expect(r.values).toEqual(doubled(10, [2]));
    expect(r.failures.map((f) => [f.index, f.attempts, f.error.message])).toEqual([[2, 1, "segfault-ish"]]);
    const replaced = events.find((e) => e.kind === "worker.replaced");
    expect(replaced).toMatchObject({ reason: "crash", workerId: 1, replacementId: 2 });
  });

  test("process.exit is reported as an exit, and out of memory as such", async () => {
    const { host, pool, start, events } = setup({ retries: 0, batch: 5 });
    await start();
    const run = pool.run(range(5));
    host.workers[0].progress = { seq: 1, index: 0 };
    host.workers[0].exit(7);
    host.workers[1].ready();
    host.workers[1].progress = { seq: 1, index: 1 };
    host.workers[1].exit(1, { name: "Error", message: "heap", code: "ERR_WORKER_OUT_OF_MEMORY" });
    host.workers[2].ready();
    host.pump();
    const r = await run;
    expect(r.failures.map((f) => [f.index, f.error.name])).toEqual([
      [0, "WorkerExitError"],
      [2, "Error"],
    ]);
    expect(
      events.filter((e) => e.kind === "worker.replaced").map((e) => e.kind === "worker.replaced" && e.reason),
    ).toEqual(["exit", "out-of-memory"]);
  });

  test("without progress (or in chunk mode) the suspect batch is bisected down to the poison record", async () => {
    for (const variant of ["no-progress", "chunk"] as const) {
      const { host, pool, start, kinds } = setup({
        retries: 0,
        batch: 8,
        mode: variant === "chunk" ? "chunk" : "record",
      });
      await start();
      const run = pool.run(range(8));
      // Every worker that is handed record 5 dies on it.
      const readied = new Set<FakeWorker>([host.workers[0]]);
      for (let guard = 0; guard < 50; guard++) {
        for (const x of host.live) {
          if (readied.has(x)) continue;
          readied.add(x);
          x.ready();
        }
        const w = host.live.find((x) => x.pending.length > 0);
        if (!w) break;
        w.progress = variant === "no-progress" ? null : { seq: w.pending[0].seq, index: 0 };
        if (w.pending[0].records.includes(5)) w.exit(1);
        else w.answer();
      }
      host.pump();
      const r = await run;
      expect(r.values).toEqual(doubled(8, [5]));
      expect(r.failures.map((f) => f.index)).toEqual([5]);
      expect(kinds().filter((k) => k === "task.split")).toHaveLength(3); // 8 → 4 → 2 → 1
    }
  });

  test("a chunk that throws as a whole is bisected; good records still succeed", async () => {
    const { host, pool, start } = setup({ retries: 0, batch: 4, mode: "chunk" });
    await start();
    const run = pool.run(range(4));
    const w = host.workers[0];
    for (let guard = 0; guard < 20 && w.pending.length > 0; guard++) {
      const m = w.pending.shift()!;
      const failed = m.records.includes(1) ? { name: "Error", message: "bad chunk" } : null;
      const values = failed ? [] : m.records.map((x) => (x as number) * 2);
      w.listener.message({ t: "done", seq: m.seq, values, errors: null, failed, ms: 1 });
    }
    const r = await run;
    expect(r.values).toEqual(doubled(4, [1]));
    expect(r.failures).toEqual([
      { index: 1, record: 1, attempts: 1, error: { name: "Error", message: "bad chunk" } },
    ]);
  });
});

describe("liveness", () => {
  test("a call with no progress for `timeout` is timed out and its worker replaced", async () => {
    const { host, pool, start, clock, events } = setup({ retries: 0, timeout: 1000, batch: 4 });
    await start();
    const run = pool.run(range(4));
    const w = host.workers[0];
    w.progress = { seq: 1, index: 1 };
    await clock.advance(900);
    expect(w.terminated).toBe(false);
    await clock.advance(600); // progress last moved at the 250 ms tick
    expect(w.terminated).toBe(true);
    expect(events.find((e) => e.kind === "task.timeout")).toMatchObject({
      workerId: 1,
      timeoutMs: 1000,
      records: 1,
    });
    expect(events.find((e) => e.kind === "worker.replaced")).toMatchObject({ reason: "timeout" });
    host.workers[1].ready();
    host.pump();
    const r = await run;
    expect(r.failures.map((f) => [f.index, f.error.name])).toEqual([[1, "TaskTimeoutError"]]);
    expect(r.values).toEqual(doubled(4, [1]));
  });

  test("a long batch that keeps making progress is never timed out", async () => {
    const { host, pool, start, clock } = setup({ timeout: 1000, batch: 100 });
    await start();
    const run = pool.run(range(100));
    const w = host.workers[0];
    for (let i = 0; i < 20; i++) {
      w.progress = { seq: 1, index: i };
      await clock.advance(500);
    }
    expect(w.terminated).toBe(false);
    host.pump();
    expect((await run).failures).toEqual([]);
  });

  test("idle workers are pinged; one that stays silent is replaced", async () => {
    const { host, start, clock, events } = setup({ heartbeat: { interval: 1000, timeout: 3000 } });
    await start();
    const w = host.workers[0];
    await clock.advance(1000);
    expect(w.pings).toBe(1); // answered
    w.answersPings = false;
    await clock.advance(2500);
    expect(w.pings).toBe(2);
    await clock.advance(3500);
    expect(w.terminated).toBe(true);
    expect(events.find((e) => e.kind === "worker.replaced")).toMatchObject({
      reason: "heartbeat",
      replacementId: 2,
    });
  });

  test("a replacement that does not start in time is replaced; after three in a row the pool fails", async () => {
    const { host, pool, start, clock, events } = setup({ startTimeout: "2s" });
    await start();
    const run = pool.run(range(3));
    host.workers[0].exit(1); // its replacement, worker 2, never says ready
    await clock.advance(2500);
    expect(host.workers[1].terminated).toBe(true);
    expect(events.find((e) => e.kind === "worker.replaced" && e.reason === "start-timeout")).toMatchObject({
      workerId: 2,
      replacementId: 3,
    });
    await clock.advance(2500); // worker 3: the second in a row
    expect(pool.stats().workers).toBe(1);
    await clock.advance(2500); // worker 4: the third
    await expect(run).rejects.toThrow(
      /worker module file:\/\/\/score.ts: 3 workers in a row did not start within 2000ms/,
    );
    await expect(pool.run([1])).rejects.toBeInstanceOf(WorkerModuleError);
  });

  test("a replacement that cannot load the module fails pending runs instead of hanging", async () => {
    const { host, pool, start } = setup();
    await start();
    const run = pool.run(range(3));
    host.workers[0].progress = { seq: 1, index: 0 };
    host.workers[0].exit(1);
    host.workers[1].listener.message({
      t: "init-error",
      error: { name: "Error", message: "could not be loaded: gone" },
    });
    await expect(run).rejects.toThrow(/could not be loaded: gone/);
    await expect(pool.run([1])).rejects.toBeInstanceOf(WorkerModuleError);
  });
});

describe("scaling", () => {
  test("scales up on queue depth to max, and back to min after idleTimeout", async () => {
    const { host, pool, start, clock, events } = setup({
      workers: { min: 1, max: 3 },
      batch: 1,
      idleTimeout: "10s",
    });
    await start();
    const run = pool.run(range(20));
    expect(host.workers).toHaveLength(3);
    expect(events.find((e) => e.kind === "worker.scaled")).toMatchObject({
      from: 1,
      to: 3,
      reason: "queue-depth",
    });
    host.readyAll();
    expect(events.filter((e) => e.kind === "worker.started" && e.reason === "scale-up")).toHaveLength(2);
    host.pump();
    await run;
    expect(pool.stats().reuseRate).toBeGreaterThan(0.5);
    await clock.advance(10_500);
    expect(host.live).toHaveLength(1);
    expect(
      events
        .filter((e) => e.kind === "worker.scaled" && e.reason === "idle")
        .map((e) => e.kind === "worker.scaled" && e.to),
    ).toEqual([2, 1]);
  });
});

describe("drain and close", () => {
  test("graceful close drains in-flight and retrying work, then refuses new runs", async () => {
    const { host, pool, start, clock, events } = setup({ batch: 2, retries: 1 });
    await start();
    const run = pool.run(range(4));
    host.workers[0].answer(poison(1));
    let closed = false;
    const closing = pool.close().then(() => {
      closed = true;
    });
    await expect(pool.run([1])).rejects.toBeInstanceOf(PoolClosedError);
    host.pump();
    await clock.advance(100);
    expect(closed).toBe(false);
    host.pump();
    await closing;
    expect((await run).values).toEqual(doubled(4));
    expect(host.live).toHaveLength(0);
    expect(events.at(-1)).toMatchObject({ kind: "worker.stopped", reason: "close" });
  });

  test("a run issued before close registers in time to be drained", async () => {
    const { host, pool } = setup();
    const run = pool.run([1, 2]); // before start() resolved
    const closing = pool.close();
    host.readyAll();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    host.pump();
    await closing;
    expect((await run).values).toEqual([2, 4]);
  });

  test("close({ graceful: false }) rejects what is still pending", async () => {
    const { pool, start } = setup();
    await start();
    const run = pool.run(range(3));
    await pool.close({ graceful: false });
    await expect(run).rejects.toBeInstanceOf(PoolClosedError);
  });
});

describe("resize (adaptive configuration)", () => {
  test("starts workers up to the new count, and stops busy ones only when their batches are done", async () => {
    const { host, pool, events, start } = setup({ workers: 1, batch: 10 });
    await start();
    pool.resize(3);
    expect(host.workers).toHaveLength(3);
    host.readyAll();
    expect(events.find((e) => e.kind === "worker.scaled")).toMatchObject({
      from: 1,
      to: 3,
      reason: "resize",
    });
    const run = pool.run(range(60));
    await Promise.resolve();
    expect(host.live.filter((w) => w.pending.length > 0)).toHaveLength(3); // work spread over all three
    pool.resize(1);
    // Busy workers drain: nobody is stopped with a batch in flight, no batch is lost.
    expect(host.live).toHaveLength(3);
    expect(events.filter((e) => e.kind === "worker.scaled").at(-1)).toMatchObject({ from: 3, to: 1 });
    host.pump();
    expect(await run).toMatchObject({ values: doubled(60), failures: [] });
    expect(host.live).toHaveLength(1);
    expect(pool.stats().workers).toBe(1);
    const stopped = events.filter((e) => e.kind === "worker.stopped" && e.reason === "resize");
    expect(stopped).toHaveLength(2);
    // New work goes to the one left.
    const again = pool.run(range(5));
    host.pump();
    expect((await again).values).toEqual(doubled(5));
    await pool.close();
  });
});
