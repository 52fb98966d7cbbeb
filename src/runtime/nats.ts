/**
 * @module Connecting to NATS (DESIGN §8). The client is loaded with a dynamic
 * `import()` when a connection is made, so a run that does not use a broker
 * never loads it. `@nats-io/transport-node` runs on Node, Bun and Deno (its
 * `node:net` compatibility). A failure to connect says where and what to do.
 */
import type { NatsConnection } from "@nats-io/nats-core";

export type { NatsConnection } from "@nats-io/nats-core";

export interface NatsConnectOptions {
  /** Shown in the server's connection list (`nats server report connections`). */
  readonly name?: string;
  /** Give up connecting after this many ms (default 5000). */
  readonly timeoutMs?: number;
}

/**
 * Connects to the server at `url` (`nats://127.0.0.1:4222`). Throws an Error
 * naming the URL and the likely cause; callers wrap it in their layer's error.
 */
export async function connectNats(url: string, options: NatsConnectOptions = {}): Promise<NatsConnection> {
  const { connect } = await import("@nats-io/transport-node");
  try {
    return await connect({
      servers: url,
      name: options.name,
      timeout: options.timeoutMs ?? 5000,
      // Reconnect for a while after a server restart; a run that outlives it fails with the next request.
      maxReconnectAttempts: 60,
      reconnectTimeWait: 1000,
    });
  } catch (e) {
    throw new Error(
      `cannot reach NATS at ${url}: is nats-server running with -js? (${e instanceof Error ? e.message : String(e)})`,
      { cause: e },
    );
  }
}
