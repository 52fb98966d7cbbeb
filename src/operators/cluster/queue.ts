/**
 * @module The task stream and a job's consumer, as both the coordinator and the workers set
 * them up. Server 2.9 rules kept here: work-queue retention needs explicit acks; `max_deliver`
 * is set and greater than `backoff`'s length; `backoff` replaces `ack_wait` per delivery.
 */
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { TASK_STREAM, TASK_SUBJECTS } from "./protocol.ts";
import { backoffMs } from "./queue-timing.ts";

const NS = 1_000_000;

/** Creates `SLUICE_TASKS` if missing (idempotent; a concurrent creator wins harmlessly). */
export async function ensureTaskStream(jsm: JetStreamManager): Promise<void> {
  try {
    await jsm.streams.info(TASK_STREAM);
    return;
  } catch {
    // missing: create it below
  }
  try {
    await jsm.streams.add({
      name: TASK_STREAM,
      subjects: [TASK_SUBJECTS],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: 120_000 * NS,
    });
  } catch (e) {
    // Someone created it meanwhile: fine when it is there now.
    await jsm.streams.info(TASK_STREAM).catch(() => {
      throw e;
    });
  }
}

/**
 * Gives the job a fresh consumer of this coordinator's own and empties its subject: a resumed
 * run starts from its checkpoint, so tasks left by the crashed coordinator are stale, and the
 * crashed coordinator's consumer (another name: a worker still pulling from it finds it gone
 * instead of taking the new run's tasks) is deleted first, as work-queue retention allows one
 * consumer per subject.
 */
export async function resetJob(
  jsm: JetStreamManager,
  job: { subject: string; consumer: string; ackWaitMs: number; maxDeliver: number },
): Promise<void> {
  for await (const c of await jsm.consumers.list(TASK_STREAM)) {
    if (c.config.filter_subject === job.subject || c.name === job.consumer)
      await jsm.consumers.delete(TASK_STREAM, c.name).catch(() => false);
  }
  await jsm.streams.purge(TASK_STREAM, { filter: job.subject });
  const backoff = backoffMs(job.ackWaitMs, job.maxDeliver);
  await jsm.consumers.add(TASK_STREAM, {
    durable_name: job.consumer,
    filter_subject: job.subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: job.ackWaitMs * NS,
    max_deliver: job.maxDeliver,
    // Tasks held by workers at once, over every worker (the server's default is 1,000).
    max_ack_pending: 20_000,
    ...(backoff.length ? { backoff: backoff.map((ms) => ms * NS) } : {}),
  });
}

/** Removes the job's consumer and whatever it left on its subject. */
export async function removeJob(
  jsm: JetStreamManager,
  job: { subject: string; consumer: string },
): Promise<void> {
  await jsm.consumers.delete(TASK_STREAM, job.consumer).catch(() => false);
  await jsm.streams.purge(TASK_STREAM, { filter: job.subject }).catch(() => undefined);
}
