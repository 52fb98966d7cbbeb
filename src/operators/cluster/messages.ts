/**
 * @module What the coordinator of a cluster stage says: the warnings it raises (each once) and
 * the errors a record is dead-lettered with, each naming what happened and what to do.
 */
import type { SerializedError } from "../internal/pool-protocol.ts";

const why = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const recordTooLarge = (bytes: number, maxPayload: number): SerializedError => ({
  name: "RecordTooLarge",
  message: `the record is ${bytes} bytes as JSON, over the NATS server's max_payload (${maxPayload}); raise max_payload in the server's config or map it locally`,
});

export const notJson = (e: unknown): SerializedError => ({
  name: "NotJson",
  message: `the record cannot be sent to a worker as JSON (${why(e)}); convert such values (e.g. String(bigint)) before the cluster stage`,
});

export const workerLost = (deliveries: number, ackWaitMs: number): SerializedError => ({
  name: "WorkerLost",
  message: `every worker that took the record died or hung on it (${deliveries} deliveries, ack wait ${ackWaitMs} ms)`,
});

export const cannotLoad = (worker: string, module: string, error: string): string =>
  `worker ${worker} cannot run ${module}: ${error}. A worker loads the module from the same path on its own machine: copy it there, or run the worker where it exists (it tries again in 10 s).`;

export const hung = (
  worker: string,
  task: number,
  records: number,
  ackWaitMs: number,
  delivery: number,
  maxDeliver: number,
): string =>
  `worker ${worker} took task ${task} (${records} records) and did not finish it within the ack wait (${ackWaitMs} ms): it was handed to another worker (delivery ${delivery} of ${maxDeliver})`;

export const split = (task: number, records: number, deliveries: number): string =>
  `task ${task} (${records} records) was delivered ${deliveries} times and no worker finished it: running its records one per task to find the one at fault`;

export const stalled = (stage: string, ms: number, waiting: number, workers: number, nats: string): string =>
  `no task of stage ${stage} finished in the last ${ms / 1000} s (${waiting} waiting; ` +
  `${workers ? `workers seen: ${workers}, they may have died or hung` : "no worker has taken one yet"}): ` +
  `start one with \`sluice worker --nats ${nats}\`, or check the workers' logs`;
