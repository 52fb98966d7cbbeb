/**
 * @module The HTTP layer's two entry points for the CLI: `serveCommand`
 * (`sluice serve`: past runs from the state directory's metrics store, read
 * only) and `serveHook` (`sluice run FILE --serve [PORT]`: the live run's bus,
 * with the metrics store the run writes). Both refuse a non-loopback address
 * without a token, and print where they listen (never the token).
 */
import type { EventBus } from "../events/bus.ts";
import { MetricsStateError } from "../metrics/errors.ts";
import { type MetricsStore, openMetricsStore } from "../metrics/store.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { RunOptions } from "../pipeline/run.ts";
import { systemClock } from "../runtime/clock.ts";
import { env, onSignal, stderr } from "../runtime/process.ts";
import { type Served, serve } from "../runtime/serve.ts";
import { startThread } from "../runtime/thread.ts";
import { createApp, type SluiceApp } from "./app.ts";
import { ServeConfigError } from "./errors.ts";
import { isLoopback } from "./internal/auth.ts";
import { parseHost } from "./internal/origin.ts";
import { storeQueries } from "./store-queries.ts";
import { type FromThread, serveThread } from "./thread.ts";
import type { ThreadConfig } from "./thread-main.ts";

export const DEFAULT_PORT = 7878;
export const DEFAULT_HOST = "127.0.0.1";

export interface ServeFlags {
  readonly host?: string;
  readonly port?: number;
  /** `--token`; else `SLUICE_TOKEN`. */
  readonly token?: string;
  readonly allowWrites?: boolean;
  /** `--allowed-hosts`: more Host names the server answers to (comma-separated on the command line). */
  readonly allowedHosts?: readonly string[];
  readonly home?: string;
  readonly quiet?: boolean;
  /** Called with the server's URL once it listens (the CLI prints it; benchmarks use this). */
  readonly onListening?: (url: string) => void;
}

/** Where and how to listen, or a `ServeConfigError` saying why not. */
export function resolveBind(flags: ServeFlags): {
  host: string;
  port: number;
  token?: string;
  allowedHosts: readonly string[];
} {
  const host = flags.host ?? DEFAULT_HOST;
  const port = flags.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ServeConfigError(`invalid port ${flags.port}: expected 0-65535`);
  if (!/^[A-Za-z0-9.:[\]-]{1,253}$/.test(host)) throw new ServeConfigError(`invalid host "${host}"`);
  const token = flags.token || env("SLUICE_TOKEN") || undefined;
  if (token !== undefined && token.length < 16)
    throw new ServeConfigError(
      "the token is too short: use at least 16 characters (e.g. `openssl rand -hex 24`)",
    );
  const allowedHosts = (flags.allowedHosts ?? []).flatMap((h) => h.split(",")).map((h) => h.trim());
  for (const h of allowedHosts)
    if (!parseHost(h))
      throw new ServeConfigError(
        `--allowed-hosts: "${h.slice(0, 100)}" is not a host name (expected e.g. dash.example.com or dash.example.com:8443)`,
      );
  if (!isLoopback(host) && !token) {
    throw new ServeConfigError(
      `refusing to serve on ${host} without a token: any address outside loopback (127.0.0.0/8, ::1, localhost) exposes ` +
        "run data to the network. Set SLUICE_TOKEN or pass --token (clients then send `Authorization: Bearer <token>`), " +
        "or bind 127.0.0.1.",
    );
  }
  return { host, port, token, allowedHosts };
}

async function listen(app: SluiceApp, host: string, port: number, quiet: boolean): Promise<Served> {
  let served: Served;
  try {
    served = await serve(app.fetch, { hostname: host, port });
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new ServeConfigError(
      code === "EADDRINUSE"
        ? `port ${port} on ${host} is in use; pick another with --port (or 0 for any free port)`
        : `could not listen on ${host}:${port}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (!quiet) stderr.write(`sluice: serving the API and dashboard at ${served.url}/\n`);
  return served;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const offs = [onSignal("SIGINT", done), onSignal("SIGTERM", done)];
    function done() {
      for (const off of offs) off();
      resolve();
    }
  });
}

/** `sluice serve`: serves past runs until SIGINT/SIGTERM. Returns the exit code. */
export async function serveCommand(flags: ServeFlags): Promise<number> {
  const bind = resolveBind(flags);
  const store = await openMetricsStore(flags.home, { readOnly: true });
  const app = createApp({
    metrics: storeQueries(store),
    auth: {
      token: bind.token,
      allowWrites: flags.allowWrites,
      bindHost: bind.host,
      allowedHosts: bind.allowedHosts,
    },
  });
  try {
    const served = await listen(app, bind.host, bind.port, flags.quiet === true);
    await untilSignal();
    await served.close();
  } finally {
    app.close();
    await store.close();
  }
  return 0;
}

export type RunHook = (p: Pipeline<unknown>, bus: EventBus, options: RunOptions) => Promise<RunOptions>;

/**
 * `sluice run FILE --serve [PORT]`: serves the live run from a worker thread
 * (see `thread.ts`), so requests are answered while the pipeline keeps this
 * thread busy. Uses the metrics store this process writes (opening and
 * attaching it when no other layer has); the server stays up after the run
 * ends, until Ctrl-C.
 */
export function serveHook(flags: ServeFlags): RunHook {
  return async (_p, bus, options) => {
    const bind = resolveBind(flags);
    let store: MetricsStore | undefined;
    let owned = false;
    try {
      store = await openMetricsStore(options.home);
      // Alert rules evaluated live on the bus (the store's alert engine): the dashboard shows what they raise.
      // Each run with its pipeline's own rules (the `alerts` option, on its run.started), else the defaults.
      store.attach(bus, { alerts: true });
      owned = true;
    } catch (e) {
      // Another layer opened the store for writing in this process: share it read-only.
      if (e instanceof MetricsStateError) store = await openMetricsStore(options.home, { readOnly: true });
      else if (!flags.quiet)
        stderr.write(
          `sluice: serving without the metrics store (${e instanceof Error ? e.message : String(e)})\n`,
        );
    }
    const cancel = new AbortController();
    let liveRunId: string | undefined;
    const config: ThreadConfig = {
      host: bind.host,
      port: bind.port,
      auth: {
        token: bind.token,
        allowWrites: flags.allowWrites,
        bindHost: bind.host,
        allowedHosts: bind.allowedHosts,
      },
      hasStore: store !== undefined,
    };
    const thread = startThread(
      new URL(`./thread-main.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url),
      config,
    );
    const stopRelay = serveThread(
      { post: (m) => thread.post(m), onMessage: (fn) => thread.onMessage(fn) },
      {
        bus,
        clock: systemClock,
        metrics: store ? storeQueries(store) : undefined,
        cancel: (runId) => {
          if (runId !== liveRunId) return false;
          cancel.abort();
          return true;
        },
      },
    );
    const url = await new Promise<string>((resolve, reject) => {
      thread.onMessage((raw) => {
        const m = raw as FromThread;
        if (m.t === "listening") resolve(m.url);
        else if (m.t === "failed") reject(new ServeConfigError(m.message));
      });
      thread.onExit((code, error) =>
        reject(
          new ServeConfigError(`the HTTP server thread exited (${code})${error ? `: ${error.message}` : ""}`),
        ),
      );
    });
    if (!flags.quiet) stderr.write(`sluice: serving the API and dashboard at ${url}/\n`);
    flags.onListening?.(url);
    let waiting = false;
    const sub = bus.subscribe(
      (e) => {
        if (e.kind === "run.started") liveRunId = e.runId;
        else if (e.kind === "run.ended" && e.runId === liveRunId) {
          liveRunId = undefined;
          // Let the dashboard see the final figures; keep serving until Ctrl-C.
          if (!flags.quiet) stderr.write(`sluice: run ended; still serving at ${url}/ (Ctrl-C to stop)\n`);
          void store?.flush().catch(() => {});
          // One wait for the signal however many runs this hook serves (a benchmark runs many).
          if (waiting) return;
          waiting = true;
          void untilSignal().then(async () => {
            sub.unsubscribe();
            stopRelay();
            await thread.terminate();
            if (owned) await store?.close();
          });
        }
      },
      ["run.started", "run.ended"],
    );
    const signal = options.signal ? AbortSignal.any([options.signal, cancel.signal]) : cancel.signal;
    return { ...options, signal };
  };
}
