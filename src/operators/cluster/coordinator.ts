/**
 * @module The coordinator of a cluster `parallelMap`: the same `WorkerPool` contract as the local
 * thread pool, so the stage's ordering, barrier fencing and dead letters are the local ones, but
 * each run of records becomes tasks on the JetStream work queue that `sluice worker` processes
 * pull (see `protocol.ts` for the wire). The journal stays the truth: a task is finished when
 * its result reaches this process, a duplicate result is dropped by task id, and tasks left by a
 * crashed coordinator are purged when the resumed run starts the job again.
 *
 * A task that no worker survives (every delivery died or hung until `maxDeliver`) is reported by
 * the server's max-deliveries advisory, which names only the stream sequence: the coordinator
 * maps it back to its task, splits a task of several records into one task per record, and
 * dead-letters a lone record with attempts = `maxDeliver`. Records that throw are retried on
 * the worker by its local pool and come back as failures with their attempts.
 */
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { Msg, Subscription } from "@nats-io/nats-core";
import type { EventInput } from "../../events/schema.ts";
import type { Clock } from "../../runtime/clock.ts";
import type { NatsConnection } from "../../runtime/nats.ts";
import { missingFile, moduleHref } from "../../runtime/worker-thread.ts";
import { PoolClosedError } from "../errors.ts";
import type { PoolStats, RunResult, WorkerPool } from "../internal/pool-protocol.ts";
import * as say from "./messages.ts";
import {
  announcement,
  HELLO_SUBJECT,
  JOBS_SUBJECT,
  type JobAnnouncement,
  jobKey,
  maxDeliveriesSubject,
  parseJson,
  type TaskBody,
  type WorkerReport,
} from "./protocol.ts";
import { backoffMs } from "./queue-timing.ts";
import { poolStats, Roster } from "./roster.ts";
import { TaskSizer } from "./task-sizer.ts";
import { type Batch, newBatch, type Task, type TaskFailure, TaskTable } from "./tasks.ts";

export interface ClusterPoolOptions {
  readonly nats: string;
  readonly module: URL | string;
  readonly mode: "record" | "chunk";
  readonly timeoutMs: number | false;
  readonly retries: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number; readonly jitter: number };
  readonly maxMemoryMB?: number;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  /** Records per task, or "auto" (about 100 ms of worker time, from measured cost). */
  readonly batch: number | "auto";
  readonly pipeline: string;
  readonly stage: string;
  readonly runId: string;
  readonly clock: Clock;
  readonly emit: (event: EventInput) => void;
  /** Give up on a NATS server that stays away this long (default 60 s): the run fails and resumes. */
  readonly reconnectForMs?: number;
}

const NO_WORKER_WARN_MS = 10_000;
/** Beyond the sum of the delivery waits, before a silent task is published again. */
const STALE_MARGIN_MS = 10_000;

export function createClusterPool<I, O>(o: ClusterPoolOptions): WorkerPool<I, O> {
  return new ClusterPool<I, O>(o);
}

class ClusterPool<I, O> implements WorkerPool<I, O> {
  readonly #job: JobAnnouncement;
  readonly #instance: string;
  readonly #roster: Roster;
  readonly #sizer: TaskSizer;
  readonly #tasks = new TaskTable<I, O>();
  /** Records of `run()` calls not cut into tasks yet, in order. */
  readonly #uncut: Array<{ readonly batch: Batch<I, O>; readonly records: readonly I[]; at: number }> = [];
  readonly #subs: Subscription[] = [];
  readonly #warned = new Set<string>();
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #jsm: JetStreamManager | undefined;
  #stopTimer: (() => void) | undefined;
  #closed = false;
  /** The connection is gone for good: every run fails with this. */
  #fatal: Error | undefined;
  #startedAt = 0;
  #lastProgress = 0;
  #redelivered = 0;

  constructor(readonly o: ClusterPoolOptions) {
    const key = jobKey(o.pipeline, o.stage, o.runId);
    // This coordinator's own results subject and msg-ids: a resumed run reuses the job (its
    // consumer and subject are reset), but a worker still holding a task of the crashed
    // coordinator finds no one on the old results subject, and a task id of the resumed run
    // never collides with one of the crashed run inside the server's duplicate window.
    const instance = Math.floor(Math.random() * 36 ** 8).toString(36);
    this.#instance = instance;
    this.#job = announcement(key, instance, { ...o, module: moduleHref(o.module) });
    this.#roster = new Roster(o.stage, o.emit, () => o.clock.now());
    this.#sizer = new TaskSizer(o.batch);
  }

  async start(): Promise<void> {
    const missing = missingFile(this.#job.module);
    if (missing !== null) throw new Error(`file not found: ${missing}`);
    const { connectNats } = await import("../../runtime/nats.ts");
    const { jetstream, jetstreamManager } = await import("@nats-io/jetstream");
    const { ensureTaskStream, resetJob } = await import("./queue.ts");
    const nc = await connectNats(this.o.nats, {
      name: `sluice ${this.o.pipeline}/${this.o.stage}`,
      reconnectForMs: this.o.reconnectForMs,
    });
    this.#nc = nc;
    const jsm = await jetstreamManager(nc);
    this.#jsm = jsm;
    this.#js = jetstream(nc);
    await ensureTaskStream(jsm);
    await resetJob(jsm, this.#job);
    this.#subs.push(
      nc.subscribe(this.#job.results, { callback: (_e, m) => this.#report(m) }),
      nc.subscribe(maxDeliveriesSubject(this.#job.consumer), { callback: (_e, m) => this.#maxDeliveries(m) }),
      nc.subscribe(HELLO_SUBJECT, { callback: () => this.#announce() }),
    );
    void nc.closed().then((e) => {
      if (!this.#closed)
        this.#fail(new Error(`lost the NATS connection to ${this.o.nats}${e ? `: ${e.message}` : ""}`));
    });
    this.#startedAt = this.#lastProgress = this.o.clock.monotonic();
    this.#announce();
    this.#stopTimer = this.o.clock.every(1000, () => this.#tick());
  }

  run(records: readonly I[]): Promise<RunResult<I, O>> {
    if (this.#fatal) return Promise.reject(this.#fatal);
    if (this.#closed) return Promise.reject(new PoolClosedError("the cluster pool is closed"));
    if (records.length === 0) return Promise.resolve({ values: [], failures: [] });
    return new Promise<RunResult<I, O>>((resolve, reject) => {
      const batch = newBatch<I, O>(records.length, resolve, reject);
      this.#tasks.hold(batch);
      this.#uncut.push({ batch, records, at: 0 });
      this.#pump();
    });
  }

  /**
   * Cuts tasks from the records waiting, at the size measured so far, while fewer than
   * `#window()` are in flight: the queue on the server stays short (a resumed or re-sized run
   * has little to purge) and tasks are cut at the measured cost, not the first guess.
   */
  #pump(): void {
    if (this.#fatal) return;
    while (this.#uncut.length && this.#tasks.size < this.#window()) {
      const seg = this.#uncut[0];
      const size = this.#sizer.size();
      const end = Math.min(seg.records.length, seg.at + size);
      this.#submit(
        seg.batch,
        seg.at,
        seg.at === 0 && end === seg.records.length ? seg.records : seg.records.slice(seg.at, end),
      );
      seg.at = end;
      if (end === seg.records.length) {
        this.#uncut.shift();
        this.#tasks.settle(seg.batch);
      }
    }
  }

  /** Tasks in flight: two per thread of the workers seen, at least 8. */
  #window(): number {
    return Math.max(8, 2 * this.#roster.totals().threads + 2);
  }

  drain(): Promise<void> {
    return this.#tasks.drain();
  }

  async close(options: { graceful?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    if (options.graceful !== false) await this.drain();
    this.#closed = true;
    this.#fail(new PoolClosedError("the cluster pool was closed with tasks in flight"));
    this.#stopTimer?.();
    this.#roster.flush();
    const nc = this.#nc;
    if (!nc || nc.isClosed()) return;
    this.#publish(JOBS_SUBJECT, { ...this.#job, ended: true });
    for (const s of this.#subs) s.unsubscribe();
    if (this.#jsm) {
      const { removeJob } = await import("./queue.ts");
      await removeJob(this.#jsm, this.#job).catch(() => undefined);
    }
    await nc.drain().catch(() => nc.close());
  }

  stats(): PoolStats {
    let queued = 0;
    for (const u of this.#uncut) queued += u.records.length - u.at;
    const elapsed = Math.max(1, this.o.clock.monotonic() - this.#startedAt);
    return poolStats(
      this.#roster.totals(),
      this.#tasks.values(),
      queued,
      elapsed,
      this.#redelivered,
      this.#sizer.size(),
    );
  }

  resize(): void {
    // The cluster's size is the workers that run: `sluice worker --concurrency N` on each machine.
  }

  #submit(batch: Parameters<TaskTable<I, O>["add"]>[0], offset: number, records: readonly I[]): void {
    void this.#send(this.#tasks.add(batch, offset, records));
  }

  #resend(tasks: Array<Task<I, O>>): void {
    for (const t of tasks) void this.#send(t);
  }

  async #send(task: Task<I, O>): Promise<void> {
    // Never settle a task inside the caller's loop (`#pump` is still cutting its segment).
    await null;
    if (this.#fatal) return;
    task.sentAt = this.o.clock.monotonic();
    const body: TaskBody = { t: task.id, r: task.records };
    let json: string;
    try {
      json = JSON.stringify(body);
    } catch (e) {
      this.#unsendable(task, e);
      return;
    }
    const data = new TextEncoder().encode(json);
    const max = (this.#nc?.info?.max_payload ?? 1024 * 1024) - 1024;
    if (data.length > max) {
      if (task.records.length > 1) {
        this.#resend(this.#tasks.split(task, 2));
        return;
      }
      this.#complete(task, [], [[0, say.recordTooLarge(data.length, max + 1024), 1]]);
      return;
    }
    const deadline = this.o.clock.monotonic() + (this.o.reconnectForMs ?? 60_000);
    for (;;) {
      if (this.#closed || !this.#js) return;
      try {
        const ack = await this.#js.publish(this.#job.subject, data, {
          msgID: `${this.#job.job}:${this.#instance}:${task.id}.${task.sends}`,
          timeout: 5_000,
        });
        this.#tasks.published(task, ack.seq);
        return;
      } catch (e) {
        if (this.#closed) return;
        if (this.o.clock.monotonic() > deadline) {
          this.#fail(
            new Error(
              `could not publish a task to ${this.o.nats}: ${e instanceof Error ? e.message : String(e)}`,
            ),
          );
          return;
        }
        await this.o.clock.sleep(250);
      }
    }
  }

  /** A record JSON cannot carry (a BigInt, a cycle): find it and dead-letter it, send the rest. */
  #unsendable(task: Task<I, O>, e: unknown): void {
    if (task.records.length > 1) {
      this.#resend(this.#tasks.split(task, task.records.length));
      return;
    }
    this.#complete(task, [], [[0, say.notJson(e), 1]]);
  }

  #report(m: Msg): void {
    const r = parseJson<WorkerReport>(m.data);
    if (!r || typeof r !== "object") {
      if (m.reply) m.respond();
      return;
    }
    switch (r.k) {
      case "take": {
        this.#roster.seen(r.w);
        this.#pump(); // a new worker widens the window
        const task = this.#tasks.get(r.t);
        if (!task) return;
        task.taken = true;
        task.sentAt = this.o.clock.monotonic();
        if (r.n > 1) {
          for (const id of task.takers) if (id !== r.w.id) this.#hung(id, task, r.n);
        }
        task.takers.add(r.w.id);
        return;
      }
      case "result": {
        const task = this.#tasks.get(r.t);
        if (r.n > 1) this.#redelivered++;
        // Only a result that lands counts as the worker's work (a duplicate is answered and dropped).
        if (task) this.#roster.result(r.w, task.records.length, r.f?.length ?? 0, r.ms ?? 0, r.n > 1);
        else this.#roster.seen(r.w);
        if (task) {
          this.#sizer.observe(task.records.length, r.ms ?? 0, m.data.length);
          this.#complete(task, r.v, r.f ?? []);
        }
        if (m.reply) m.respond();
        return;
      }
      case "cannot-load":
        this.#roster.seen(r.w);
        this.#warn(
          `cannot-load:${r.w.id}`,
          "cluster-worker-cannot-load",
          say.cannotLoad(r.w.id, this.#job.module, r.error),
        );
        return;
      case "bye":
        this.#roster.gone(r.w);
        return;
    }
  }

  #hung(id: string, task: Task<I, O>, delivery: number): void {
    this.#roster.hung(id);
    const text = say.hung(id, task.id, task.records.length, this.o.ackWaitMs, delivery, this.o.maxDeliver);
    this.#warn(`hung:${id}:${task.id}`, "cluster-worker-hung", text);
  }

  /** The server gave up on a task after `maxDeliver` deliveries (every worker died or hung on it). */
  #maxDeliveries(m: Msg): void {
    const advisory = parseJson<{ stream_seq?: number; deliveries?: number }>(m.data);
    const task = advisory?.stream_seq !== undefined ? this.#tasks.bySeq(advisory.stream_seq) : undefined;
    if (!task) return;
    const deliveries = advisory?.deliveries ?? this.o.maxDeliver;
    if (task.records.length > 1) {
      this.#warn(
        `split:${task.id}`,
        "cluster-task-split",
        say.split(task.id, task.records.length, deliveries),
      );
      this.#resend(this.#tasks.split(task, task.records.length));
      return;
    }
    this.#complete(task, [], [[0, say.workerLost(deliveries, this.o.ackWaitMs), deliveries]]);
  }

  #complete(task: Task<I, O>, values: readonly unknown[], failures: ReadonlyArray<TaskFailure>): void {
    if (this.#tasks.complete(task, values, failures)) this.#lastProgress = this.o.clock.monotonic();
    this.#pump();
  }

  #fail(error: Error): void {
    if (!this.#closed) this.#fatal ??= error;
    const batches = new Set(this.#uncut.splice(0).map((u) => u.batch));
    this.#tasks.fail(error);
    for (const b of batches) b.reject(error);
  }

  #tick(): void {
    this.#announce();
    this.#pump();
    this.#resendStale();
    this.#roster.flush();
    const stalled = this.#tasks.size > 0 && this.o.clock.monotonic() - this.#lastProgress > NO_WORKER_WARN_MS;
    if (!stalled) {
      this.#warned.delete("stalled");
      return;
    }
    const text = say.stalled(
      this.o.stage,
      NO_WORKER_WARN_MS,
      this.#tasks.size,
      this.#roster.totals().workers,
      this.o.nats,
    );
    this.#warn("stalled", "cluster-stalled", text);
  }

  /**
   * A task neither finished nor taken again long after every delivery's wait has passed: its
   * max-deliveries advisory (core NATS, not stored) or its result was lost while this process
   * was disconnected. Publish it again under a new msg-id; a late duplicate result is dropped.
   */
  #resendStale(): void {
    const waits = backoffMs(this.o.ackWaitMs, this.o.maxDeliver).reduce((a, b) => a + b, this.o.ackWaitMs);
    for (const task of this.#tasks.stale(this.o.clock.monotonic() - waits - STALE_MARGIN_MS)) {
      task.sends++;
      task.taken = false;
      void this.#send(task);
    }
  }

  #announce(): void {
    if (!this.#closed) this.#publish(JOBS_SUBJECT, this.#job);
  }

  #publish(subject: string, value: unknown): void {
    try {
      this.#nc?.publish(subject, JSON.stringify(value));
    } catch {
      // closed or reconnecting: the next announcement goes out a second later
    }
  }

  #warn(key: string, code: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.o.emit({ kind: "warning", stage: this.o.stage, code, message });
  }
}
