/**
 * @module The events of workers: the local thread pool's lifecycle and stats, and the remote
 * `sluice worker` processes of a cluster stage. Part of the one union in `../schema.ts`.
 */
import { z } from "zod";
import { base } from "./event-base.ts";

export const WorkerLifecycle = z.object({
  kind: z.literal("worker.lifecycle"),
  ...base,
  stage: z.string(),
  action: z.enum([
    "started",
    "exited",
    "replaced",
    "scaled-up",
    "scaled-down",
    "task-retried",
    "task-timeout",
  ]),
  workerId: z.number().optional(),
  workers: z.number().optional(),
  reason: z.string().optional(),
});

export const WorkerStats = z.object({
  kind: z.literal("worker.stats"),
  ...base,
  stage: z.string(),
  workers: z.number(),
  idle: z.number(),
  busy: z.number(),
  queueDepth: z.number(),
  completed: z.number(),
  failed: z.number(),
  retried: z.number(),
  avgTaskMs: z.number(),
  utilisation: z.number(),
});

/**
 * A machine running `sluice worker` for a cluster `parallelMap` stage, as the coordinator sees it
 * from the results and reports that come back. Counters (tasks, records, failures, busyMs) are
 * deltas since the last event for that worker, like `worker.stats`; `state` is "active" while it
 * returns results, "hung" when a task it took was redelivered after the ack wait, and "gone" when
 * it said it is draining or was not heard from for a while.
 */
export const ClusterWorker = z.object({
  kind: z.literal("cluster.worker"),
  ...base,
  stage: z.string(),
  /** Stable per process: `host:pid:runtime`. */
  workerId: z.string(),
  host: z.string(),
  pid: z.number(),
  runtime: z.string(),
  state: z.enum(["active", "hung", "gone"]),
  tasks: z.number(),
  records: z.number(),
  failures: z.number(),
  /** Worker time spent running this stage's tasks in the interval, ms. */
  busyMs: z.number(),
  /** Task attempts that came back to the coordinator as redelivered in the interval. */
  redelivered: z.number(),
});
