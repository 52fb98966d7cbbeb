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
import { isNoResponders, isTimeout, JOB_RETRY_MS, quietly, resultReport, Slots } from "./worker-support.ts";

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
  /** Jobs that could not run here, and when to try them again. */
  const retryAfter = new Map<string, number>();
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

  /** The job cannot run here (module, pool or consumer): say so, stop it, retry it in a while. */
  const failJob = (job: Job, error: string) => {
    o.log?.(`cannot run ${job.a.stage} of ${job.a.pipeline}: ${error}`);
    report(job, { k: "cannot-load", w: me, error });
    retryAfter.set(job.a.job, o.clock.monotonic() + JOB_RETRY_MS);
    void stopJob(job);
  };

  /** Sends the result until the coordinator answers; false when no one will (it is gone). */
  async function deliver(job: Job, json: string): Promise<boolean> {
    for (;;) {
      try {
        await nc.request(job.a.results, json, { timeout: 10_000 });
        return true;
      } catch (e) {
        // No responders while the job is still announced: the coordinator is reconnecting.
        // Keep the task (its ack wait is renewed) and try again; else give it back.
        const fresh = !job.stopped && o.clock.monotonic() - job.lastSeen < jobTimeoutMs;
        if (!fresh || nc.isClosed() || !(isNoResponders(e) || isTimeout(e))) return false;
        await o.clock.sleep(500);
      }
    }
  }

  async function runTask(job: Job, pool: WorkerPool, m: JsMsg): Promise<void> {
    const body = parseJson<TaskBody>(m.data);
    if (!body || !Array.isArray(body.r)) {
      quietly(() => m.term("not a sluice task"));
      return;
    }
    const n = m.info.deliveryCount;
    report(job, { k: "take", t: body.t, w: me, n });
    const renew = o.clock.every(Math.max(100, Math.floor(job.a.ackWaitMs / 3)), () =>
      quietly(() => m.working()),
    );
    try {
      const t0 = o.clock.monotonic();
      let result: Awaited<ReturnType<WorkerPool["run"]>>;
      try {
        result = await pool.run(body.r);
      } catch (e) {
        // The pool itself broke (the module stopped loading): give the task back, stop the job here.
        quietly(() => m.nak(1000));
        failJob(job, e instanceof Error ? e.message : String(e));
        return;
      }
      const ms = o.clock.monotonic() - t0;
      const reply = resultReport(me, body.t, result, ms, n, nc.info?.max_payload);
      if (await deliver(job, reply.json)) {
        quietly(() => m.ack());
        tasks++;
        records += body.r.length;
        failures += reply.failures;
        busyMs += ms;
      } else quietly(() => m.nak(0)); // the coordinator is gone: a resumed run has reset the job
    } finally {
      renew();
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
      failJob(job, e instanceof Error ? e.message : String(e));
      return;
    }
    const consumer = await js.consumers.get(TASK_STREAM, job.a.consumer).catch((e: unknown) => {
      failJob(job, `its task consumer is not there (${e instanceof Error ? e.message : String(e)})`);
      return undefined;
    });
    if (!consumer) return;
    o.log?.(`took job ${job.a.pipeline}/${job.a.stage} (run ${job.a.runId})`);
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
      const p: Promise<void> = runTask(job, pool, m)
        .catch((e: unknown) =>
          o.log?.(`task of ${job.a.stage}: ${e instanceof Error ? e.message : String(e)}`),
        )
        .finally(() => {
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
    if (o.stop.aborted || (retryAfter.get(a.job) ?? 0) > o.clock.monotonic()) return;
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
  // Every loop first (one may still be taking a message), then every task in hand.
  await Promise.allSettled([...jobs.values()].map((j) => j.loop));
  await Promise.allSettled([...inHand]);
  for (const job of jobs.values()) report(job, { k: "bye", w: me });
  await Promise.allSettled([...jobs.values()].map((j) => stopJob(j)));
  stopTimer();
  for (const s of subs) s.unsubscribe();
  if (!nc.isClosed()) await nc.drain().catch(() => nc.close());
  if (lost && !o.stop.aborted) throw lost;
  return status();
}
