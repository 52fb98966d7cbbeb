/**
 * @module `sluice worker`'s engine: connects to NATS, learns the jobs coordinators announce, and
 * for each job pulls tasks from its shared durable consumer and runs them on a local thread
 * pool (`createWorkerPool`, the same one a local `parallelMap` uses: per-record retries,
 * timeouts, blame of crashing records). While a task runs the message's ack wait is renewed
 * (`working()`); its result goes back as a request, and the message is acked only once the
 * coordinator has answered. A stop (`SIGTERM`) takes no new task, finishes and reports the ones
 * in hand, says goodbye to each coordinator, and closes.
 */
import type { JsMsg } from "@nats-io/jetstream";
import type { Subscription } from "@nats-io/nats-core";
import type { Clock } from "../../runtime/clock.ts";
import { runtimeName } from "../../runtime/detect.ts";
import { host, pid } from "../../runtime/process.ts";
import { availableCores, missingFile } from "../../runtime/worker-thread.ts";
import type { SerializedError } from "../internal/pool-protocol.ts";
import { createWorkerPool, type WorkerPool } from "../internal/worker-pool.ts";
import {
  HELLO_SUBJECT,
  JOBS_SUBJECT,
  type JobAnnouncement,
  parseJson,
  TASK_STREAM,
  type TaskBody,
  type WorkerIdentity,
  type WorkerReport,
} from "./protocol.ts";

export interface ClusterWorkerOptions {
  readonly nats: string;
  /** Threads running tasks (default: every core). */
  readonly concurrency?: number;
  readonly clock: Clock;
  /** Aborted to drain and stop (SIGTERM, Ctrl-C). */
  readonly stop: AbortSignal;
  /** Called about once a second, and on every job change. */
  readonly onStatus?: (status: WorkerStatus) => void;
  readonly log?: (line: string) => void;
  /** A job whose coordinator has not announced it for this long is dropped (default 5 s). */
  readonly jobTimeoutMs?: number;
}

export interface WorkerStatus {
  readonly id: string;
  readonly concurrency: number;
  readonly jobs: number;
  readonly running: number;
  readonly tasks: number;
  readonly records: number;
  readonly failures: number;
  /** Share of thread time spent on tasks since the worker started (0..1). */
  readonly busy: number;
  readonly draining: boolean;
}

interface Job {
  readonly a: JobAnnouncement;
  pool: WorkerPool | undefined;
  lastSeen: number;
  stopped: boolean;
  loop: Promise<void> | undefined;
}

/** Runs until `stop` aborts and the tasks in hand are reported; resolves with the final status. */
export async function runClusterWorker(o: ClusterWorkerOptions): Promise<WorkerStatus> {
  const { connectNats } = await import("../../runtime/nats.ts");
  const { jetstream } = await import("@nats-io/jetstream");
  const concurrency = o.concurrency ?? availableCores();
  const me: WorkerIdentity = {
    id: `${host()}:${pid()}:${runtimeName}`,
    host: host(),
    pid: pid(),
    runtime: runtimeName,
    concurrency,
  };
  // A worker waits out any server outage (it holds nothing the server does not also hold).
  const nc = await connectNats(o.nats, {
    name: `sluice worker ${me.id}`,
    reconnectForMs: Number.POSITIVE_INFINITY,
  });
  let lost: Error | undefined;
  const closed = nc.closed().then((e) => {
    lost = new Error(`lost the connection to NATS at ${o.nats}${e ? `: ${e.message}` : ""}`);
  });
  const js = jetstream(nc);
  const jobs = new Map<string, Job>();
  const inHand = new Set<Promise<void>>();
  const slots = new Slots(concurrency * 2);
  const started = o.clock.monotonic();
  let tasks = 0;
  let records = 0;
  let failures = 0;
  let busyMs = 0;
  const jobTimeoutMs = o.jobTimeoutMs ?? 5_000;
  const encode = (v: unknown) => JSON.stringify(v);

  const status = (): WorkerStatus => ({
    id: me.id,
    concurrency,
    jobs: [...jobs.values()].filter((j) => !j.stopped).length,
    running: inHand.size,
    tasks,
    records,
    failures,
    busy: Math.min(1, busyMs / Math.max(1, (o.clock.monotonic() - started) * concurrency)),
    draining: o.stop.aborted,
  });

  const report = (job: Job, r: WorkerReport) => {
    try {
      nc.publish(job.a.results, encode(r));
    } catch {
      // reconnecting: a lost `take` only makes the hung-worker report less precise
    }
  };

  const stopJob = async (job: Job) => {
    if (job.stopped) return;
    job.stopped = true;
    slots.wake();
    await job.loop;
    await job.pool?.close({ graceful: true });
    if (jobs.get(job.a.job) === job) jobs.delete(job.a.job);
    o.onStatus?.(status());
  };

  async function runTask(job: Job, pool: WorkerPool, m: JsMsg): Promise<void> {
    const body = parseJson<TaskBody>(m.data);
    if (!body || !Array.isArray(body.r)) {
      m.term("not a sluice task");
      return;
    }
    const n = m.info.deliveryCount;
    report(job, { k: "take", t: body.t, w: me, n });
    const renew = o.clock.every(Math.max(100, Math.floor(job.a.ackWaitMs / 3)), () => m.working());
    const t0 = o.clock.monotonic();
    let result: Awaited<ReturnType<WorkerPool["run"]>>;
    try {
      result = await pool.run(body.r);
    } catch (e) {
      renew();
      // The pool itself broke (the module stopped loading): let another worker have the task.
      m.nak(1000);
      o.log?.(`task ${body.t} of ${job.a.stage}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    renew();
    const ms = o.clock.monotonic() - t0;
    const reply = resultReport(me, body.t, result, ms, n);
    try {
      await nc.request(job.a.results, reply.json, { timeout: 10_000 });
      m.ack();
      tasks++;
      records += body.r.length;
      failures += reply.failures;
      busyMs += ms;
    } catch (e) {
      const noResponders =
        e instanceof Error && /no responders|503/i.test(`${e.message} ${String(e.cause ?? "")}`);
      // No one answers (the coordinator is gone, or a resumed run replaced it): hand the task
      // back rather than drop it; a resumed run has reset the job and never sees it again.
      m.nak(noResponders ? 0 : 1000);
    }
  }

  async function consumeJob(job: Job): Promise<void> {
    let pool: WorkerPool;
    try {
      const missing = missingFile(job.a.module);
      if (missing !== null) throw new Error(`file not found on ${me.host}: ${missing}`);
      pool = createWorkerPool({
        module: job.a.module,
        mode: job.a.mode,
        workers: concurrency,
        timeout: job.a.timeoutMs,
        retries: job.a.retries,
        backoff: job.a.backoff
          ? { initial: job.a.backoff.initialMs, max: job.a.backoff.maxMs, jitter: job.a.backoff.jitter }
          : undefined,
        maxMemoryMB: job.a.maxMemoryMB,
      });
      job.pool = pool;
      await pool.start();
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      o.log?.(`cannot run ${job.a.stage} of ${job.a.pipeline}: ${error}`);
      report(job, { k: "cannot-load", w: me, error });
      return;
    }
    o.log?.(`took job ${job.a.pipeline}/${job.a.stage} (run ${job.a.runId})`);
    const consumer = await js.consumers.get(TASK_STREAM, job.a.consumer).catch(() => undefined);
    if (!consumer) return;
    while (!job.stopped && !o.stop.aborted) {
      await slots.acquire();
      if (job.stopped || o.stop.aborted) {
        slots.release();
        break;
      }
      let m: JsMsg | null;
      try {
        m = await consumer.next({ expires: 1_000 });
      } catch {
        slots.release();
        if (job.stopped || o.stop.aborted) break;
        await o.clock.sleep(250);
        continue;
      }
      if (!m) {
        slots.release();
        continue;
      }
      const p = runTask(job, pool, m).finally(() => {
        inHand.delete(p);
        slots.release();
      });
      inHand.add(p);
    }
  }

  const onAnnouncement = (a: JobAnnouncement | undefined) => {
    if (a?.v !== 1 || typeof a.job !== "string") return;
    const known = jobs.get(a.job);
    if (a.ended) {
      if (known) void stopJob(known);
      return;
    }
    if (known && !known.stopped && known.a.results === a.results) {
      known.lastSeen = o.clock.monotonic();
      return;
    }
    // The same job from a new coordinator (a resumed run): the old one is gone.
    if (known) void stopJob(known);
    if (o.stop.aborted) return;
    const job: Job = { a, pool: undefined, lastSeen: o.clock.monotonic(), stopped: false, loop: undefined };
    jobs.set(a.job, job);
    job.loop = consumeJob(job);
    o.onStatus?.(status());
  };

  const subs: Subscription[] = [
    nc.subscribe(JOBS_SUBJECT, { callback: (_e, m) => onAnnouncement(parseJson<JobAnnouncement>(m.data)) }),
  ];
  await nc.flush();
  nc.publish(HELLO_SUBJECT, encode({ w: me }));
  o.onStatus?.(status());
  const stopTimer = o.clock.every(1000, () => {
    const now = o.clock.monotonic();
    for (const job of jobs.values()) if (now - job.lastSeen > jobTimeoutMs) void stopJob(job);
    o.onStatus?.(status());
  });

  await Promise.race([
    closed,
    new Promise<void>((resolve) => {
      if (o.stop.aborted) resolve();
      else o.stop.addEventListener("abort", () => resolve(), { once: true });
    }),
  ]);
  slots.wake();
  o.onStatus?.(status());
  await Promise.allSettled([...inHand]);
  for (const job of jobs.values()) report(job, { k: "bye", w: me });
  await Promise.allSettled([...jobs.values()].map((j) => stopJob(j)));
  stopTimer();
  for (const s of subs) s.unsubscribe();
  if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
  if (lost && !o.stop.aborted) throw lost;
  return status();
}

/**
 * The result as JSON. An output JSON cannot carry (a BigInt, a cycle) fails its record with a
 * clear reason instead of failing the task, so one bad value never loses the others.
 */
function resultReport(
  me: WorkerIdentity,
  t: number,
  result: Awaited<ReturnType<WorkerPool["run"]>>,
  ms: number,
  n: number,
): { json: string; failures: number } {
  const f = result.failures.map((x) => [x.index, x.error, x.attempts] as [number, SerializedError, number]);
  const v = result.values.map((x) => x ?? null);
  try {
    const json = JSON.stringify({ k: "result", t, w: me, v, f, ms, n } satisfies WorkerReport);
    return { json, failures: f.length };
  } catch {
    for (let i = 0; i < v.length; i++) {
      try {
        JSON.stringify(v[i]);
      } catch (e) {
        v[i] = null;
        f.push([
          i,
          {
            name: "NotJson",
            message: `the output cannot be sent back as JSON (${e instanceof Error ? e.message : String(e)}); return plain JSON values (e.g. String(bigint))`,
          },
          1,
        ]);
      }
    }
    f.sort((a, b) => a[0] - b[0]);
    return {
      json: JSON.stringify({ k: "result", t, w: me, v, f, ms, n } satisfies WorkerReport),
      failures: f.length,
    };
  }
}

/** Tasks in hand at once: a counting semaphore whose waiters `wake()` releases (to stop). */
class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(n: number) {
    this.#free = n;
  }
  acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
  /** Lets every waiter through (they check for a stop and give the slot back). */
  wake(): void {
    for (const w of this.#waiting.splice(0)) {
      this.#free--;
      w();
    }
  }
}
