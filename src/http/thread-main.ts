/**
 * @module Entry point of the server thread (`thread.ts`): builds the app over
 * the relayed bus and the remote store, listens, and reports the URL.
 */

import { serve } from "../runtime/serve.ts";
import { threadChannel } from "../runtime/thread.ts";
import { createApp } from "./app.ts";
import { type FromThread, threadDeps } from "./thread.ts";
import type { AuthOptions, Limits } from "./types.ts";

export interface ThreadConfig {
  readonly host: string;
  readonly port: number;
  readonly auth: AuthOptions;
  readonly hasStore: boolean;
  readonly limits?: Partial<Limits>;
  /** The state directory (the dead-letter routes read it). */
  readonly home?: string;
}

const channel = threadChannel();
if (channel) {
  const config = channel.data as ThreadConfig;
  const post = (m: FromThread) => channel.post(m);
  const deps = threadDeps({ post, onMessage: channel.onMessage });
  const app = createApp({
    bus: deps.bus,
    metrics: config.hasStore ? deps.metrics : undefined,
    auth: config.auth,
    limits: config.limits,
    home: config.home,
    cancel: (runId) => {
      // The projection knows whether the run is live here; the main thread decides.
      void deps.cancel(runId);
      return app.live?.get(runId)?.status === "running";
    },
  });
  serve(app.fetch, { hostname: config.host, port: config.port }).then(
    (served) => post({ t: "listening", url: served.url }),
    (e) =>
      post({
        t: "failed",
        message:
          (e as { code?: string }).code === "EADDRINUSE"
            ? `port ${config.port} on ${config.host} is in use; pick another with --port (or 0 for any free port)`
            : `could not listen on ${config.host}:${config.port}: ${e instanceof Error ? e.message : String(e)}`,
      }),
  );
}
