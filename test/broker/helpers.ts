/**
 * Shared machinery of the broker tests: a client connection to the test's
 * nats-server, streams made fresh per test, input published in order, and a
 * stream's messages read back (ordered consumer) with their message ids.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll } from "vitest";
import { type NatsServer, natsServerPresent, startNats } from "../helpers/nats.ts";

export interface Broker {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  close(): Promise<void>;
}

export async function broker(url: string): Promise<Broker> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  return { nc, jsm, close: () => nc.close() };
}

/**
 * A test file's nats-server and client connection, started before its tests (when nats-server is
 * there) and stopped after, with a temporary root dir; `use` receives them. Returns the root.
 */
export function useBroker(prefix: string, use: (server: NatsServer, b: Broker) => void): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  let server: NatsServer | undefined;
  let b: Broker | undefined;
  beforeAll(async () => {
    if (!natsServerPresent()) return;
    server = await startNats();
    b = await broker(server.url);
    use(server, b);
  });
  afterAll(async () => {
    await b?.close();
    await server?.dispose();
    rmSync(root, { recursive: true, force: true });
  });
  return root;
}

/** Creates (or empties) a stream capturing `subjects`. */
export async function freshStream(b: Broker, name: string, subjects: string[]): Promise<void> {
  await b.jsm.streams.delete(name).catch(() => false);
  await b.jsm.streams.add({ name, subjects });
}

/** The input records `{ i, name }` for `from..to-1`. */
export function records(from: number, to: number): Array<{ i: number; name: string }> {
  return Array.from({ length: to - from }, (_, k) => ({ i: from + k, name: `n${from + k}` }));
}

/** Publishes bodies to `subject` in order (pipelined), returning the last stream sequence. */
export async function publish(b: Broker, subject: string, bodies: readonly string[]): Promise<number> {
  const js = jetstream(b.nc);
  let last = 0;
  for (let i = 0; i < bodies.length; i += 500) {
    const acks = await Promise.all(bodies.slice(i, i + 500).map((body) => js.publish(subject, body)));
    last = acks.at(-1)?.seq ?? last;
  }
  return last;
}

export interface Stored {
  readonly seq: number;
  readonly body: string;
  readonly msgId: string | undefined;
}

/** Every message in `stream`, in order. */
export async function readStream(b: Broker, stream: string): Promise<Stored[]> {
  const n = (await b.jsm.streams.info(stream)).state.messages;
  const out: Stored[] = [];
  if (n === 0) return out;
  const consumer = await jetstream(b.nc).consumers.get(stream);
  const messages = await consumer.consume({ max_messages: 500 });
  for await (const m of messages) {
    out.push({ seq: m.seq, body: m.string(), msgId: m.headers?.get("Nats-Msg-Id") });
    if (out.length === n) break;
  }
  return out;
}

/** The stream sequence below which the consumer acked everything (0 when it does not exist). */
export async function ackFloor(b: Broker, stream: string, consumer: string): Promise<number> {
  const info = await b.jsm.consumers.info(stream, consumer).catch(() => undefined);
  return info?.ack_floor.stream_seq ?? 0;
}

/** Polls `pred` every 50 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function poll(pred: () => Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
