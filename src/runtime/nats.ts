/**
 * @module The NATS connection (DESIGN §8). `@nats-io/transport-node` runs on Node, Bun and Deno
 * alike (checked on all three: publish, JetStream work queue, pull consumers), so this is the one
 * place that names a transport; a Deno-native one (`@nats-io/transport-deno`) would slot in here.
 * The client is loaded with a dynamic `import()` when a connection is made, so a run that uses
 * no broker and no cluster never loads it. A failure to connect says where and what to do.
 */
import type { NatsConnection } from "@nats-io/nats-core";

export type { NatsConnection } from "@nats-io/nats-core";

export interface NatsConnectOptions {
  /** Shown by the server (`nats server report connections`). */
  readonly name?: string;
  /** Give up connecting after this many ms (default 5000). */
  readonly timeoutMs?: number;
  /** Keep reconnecting this long after the server went away, then close (default 60 s; Infinity: for ever). */
  readonly reconnectForMs?: number;
}

/** Connects to `url` (e.g. `nats://127.0.0.1:4222`; several separated by commas). */
export async function connectNats(url: string, options: NatsConnectOptions = {}): Promise<NatsConnection> {
  const { connect } = await import("@nats-io/transport-node");
  const waitMs = 250;
  const forMs = options.reconnectForMs ?? 60_000;
  // -1: for ever (a worker waits out any outage).
  const attempts = Number.isFinite(forMs) ? Math.max(1, Math.ceil(forMs / waitMs)) : -1;
  try {
    return await connect({
      servers: url.split(",").map((s) => s.trim()),
      name: options.name,
      timeout: options.timeoutMs ?? 5_000,
      maxReconnectAttempts: attempts,
      reconnectTimeWait: waitMs,
      reconnectJitter: 50,
    });
  } catch (e) {
    // A plain Error (this layer has no tagged errors); callers wrap it in their layer's error.
    throw new Error(
      `cannot reach NATS at ${url}: is nats-server running with -js? (${e instanceof Error ? e.message : String(e)}). ` +
        "Start one with `nats-server -js -a 127.0.0.1 -p 4222 -sd /tmp/js`.",
      { cause: e },
    );
  }
}
