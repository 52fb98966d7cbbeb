/**
 * @module The NATS connection. `@nats-io/transport-node` runs on Node, Bun and Deno alike (checked
 * on all three: publish, JetStream work queue, pull consumers), so this is the one place that
 * names a transport; a Deno-native one (`@nats-io/transport-deno`) would slot in here. Loaded only
 * by the cluster `parallelMap`, `sluice worker` and the JetStream source and sink, with a dynamic
 * import, so a run that does not use NATS never loads the client.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";

export type { NatsConnection } from "@nats-io/transport-node";

export interface NatsConnectOptions {
  /** Shown by the server (`nats server report connections`). */
  readonly name?: string;
  /** Keep reconnecting this long after the server went away, then close (default 60 s). */
  readonly reconnectForMs?: number;
}

/** An error naming the URL and what to check; `cause` keeps the client's own. */
export class NatsUnreachableError extends Error {
  override readonly name = "NatsUnreachableError";
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(
      `cannot reach NATS at ${url}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        "Is nats-server running with JetStream? Start one with `nats-server -js -a 127.0.0.1 -p 4222 -sd /tmp/js`.",
      { cause },
    );
  }
}

/** Connects to `url` (e.g. `nats://127.0.0.1:4222`; several separated by commas). */
export async function connectNats(url: string, options: NatsConnectOptions = {}): Promise<NatsConnection> {
  const waitMs = 250;
  const attempts = Math.max(1, Math.ceil((options.reconnectForMs ?? 60_000) / waitMs));
  try {
    return await connect({
      servers: url.split(",").map((s) => s.trim()),
      name: options.name,
      maxReconnectAttempts: attempts,
      reconnectTimeWait: waitMs,
      reconnectJitter: 50,
      timeout: 5_000,
    });
  } catch (e) {
    throw new NatsUnreachableError(url, e);
  }
}
