/**
 * @module What crosses NATS between a cluster `parallelMap` (the coordinator, inside `sluice run`)
 * and `sluice worker` processes, and the names both sides agree on.
 *
 * - One work-queue stream, `SLUICE_TASKS` (subjects `sluice.tasks.>`, file storage, a 2-minute
 *   duplicate window). Each stage of each run is a job with its own subject and one durable pull
 *   consumer that every worker shares (work-queue retention allows one consumer per subject).
 * - Tasks: a JSON body `{ t, r }` (task id, records), published with msg-id `job:t`, so a
 *   publish retried after a lost ack is stored once. Records cross as JSON, like NDJSON: a Date
 *   arrives as its ISO string, an `undefined` field is dropped.
 * - Jobs are announced on core subject `sluice.jobs` every second (and at once when a worker
 *   says hello on `sluice.jobs.hello`); a worker drops a job whose announcements stop.
 * - Reports go back on the job's results subject: `take` when a worker starts a task, `result`
 *   as a request the coordinator answers before the worker acks (no answer while the job is
 *   still announced: the coordinator is reconnecting and the worker asks again; else it naks
 *   and the task is redelivered), and `bye` when a worker drains. Each coordinator has its own
 *   results subject and consumer, so nothing of a crashed one is taken for a resumed one's. The coordinator keeps the journal; a result for a task it has
 *   already finished is answered and dropped.
 */
import type { SerializedError } from "../internal/pool-protocol.ts";

export const TASK_STREAM = "SLUICE_TASKS";
export const TASK_SUBJECTS = "sluice.tasks.>";
export const JOBS_SUBJECT = "sluice.jobs";
export const HELLO_SUBJECT = "sluice.jobs.hello";
/** The server's max-deliveries advisory for one consumer of the task stream. */
export const maxDeliveriesSubject = (consumer: string): string =>
  `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${TASK_STREAM}.${consumer}`;

/** What a worker needs to run a job's tasks: the module and the local pool's settings. */
export interface JobAnnouncement {
  readonly v: 1;
  readonly job: string;
  readonly pipeline: string;
  readonly stage: string;
  readonly runId: string;
  /** Task subject and the shared durable consumer. */
  readonly subject: string;
  readonly consumer: string;
  /** Where reports go. */
  readonly results: string;
  /** The module's URL as the coordinator resolved it (a `file:` URL must exist on the worker's machine). */
  readonly module: string;
  readonly mode: "record" | "chunk";
  readonly timeoutMs: number | false;
  readonly retries: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number; readonly jitter: number };
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly maxMemoryMB?: number;
  /** Set once, when the job is over: workers stop consuming it. */
  readonly ended?: boolean;
}

/**
 * The announcement of one stage of one run (`key`) by one coordinator (`instance`): its own
 * consumer and results subject, so nothing of a crashed coordinator is taken for the resumed one's.
 */
export function announcement(
  key: string,
  instance: string,
  o: Omit<JobAnnouncement, "v" | "job" | "subject" | "consumer" | "results" | "ended">,
): JobAnnouncement {
  return {
    v: 1,
    job: key,
    pipeline: o.pipeline,
    stage: o.stage,
    runId: o.runId,
    subject: `sluice.tasks.${key}`,
    consumer: `w_${key}_${instance}`,
    results: `sluice.results.${key}.${instance}`,
    module: o.module,
    mode: o.mode,
    timeoutMs: o.timeoutMs,
    retries: o.retries,
    backoff: o.backoff,
    ackWaitMs: o.ackWaitMs,
    maxDeliver: o.maxDeliver,
    ...(o.maxMemoryMB !== undefined ? { maxMemoryMB: o.maxMemoryMB } : {}),
  };
}

export interface WorkerIdentity {
  /** `host:pid:runtime`. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly runtime: string;
  readonly concurrency: number;
}

export interface TaskBody {
  readonly t: number;
  readonly r: readonly unknown[];
}

export type WorkerReport =
  | { readonly k: "take"; readonly t: number; readonly w: WorkerIdentity; readonly n: number }
  | {
      readonly k: "result";
      readonly t: number;
      readonly w: WorkerIdentity;
      /** Index-aligned outputs; `null` where the record failed. */
      readonly v: readonly unknown[];
      /** [index in the task, error, attempts]. */
      readonly f: ReadonlyArray<readonly [number, SerializedError, number]>;
      /** Worker time spent on the task, ms. */
      readonly ms: number;
      /** JetStream delivery count of the message (1 = first try). */
      readonly n: number;
    }
  | { readonly k: "cannot-load"; readonly w: WorkerIdentity; readonly error: string }
  | { readonly k: "bye"; readonly w: WorkerIdentity };

/** A NATS-safe token (subjects, stream and consumer names): letters, digits, `_` and `-`. */
export function natsToken(text: string, max = 64): string {
  const clean = text.replace(/[^A-Za-z0-9_-]/g, "_");
  if (clean.length <= max) return clean;
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return `${clean.slice(0, max - 9)}_${(h >>> 0).toString(36).padStart(8, "0")}`;
}

/** The job key of one stage of one run: stable across a resume, so the resumed run replaces it. */
export function jobKey(pipeline: string, stage: string, runId: string): string {
  return natsToken(`${pipeline}_${stage}_${runId}`, 120);
}

export function parseJson<T>(data: Uint8Array): T | undefined {
  try {
    return JSON.parse(new TextDecoder().decode(data)) as T;
  } catch {
    return undefined;
  }
}
