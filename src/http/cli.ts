/**
 * @module The HTTP layer's two entry points for the CLI: `serveCommand`
 * (`sluice serve`: past runs from the state directory's metrics store,
 * caught up from the journals; with the CLI's pipeline loader, redrives
 * started over HTTP) and `servePlugin` (`sluice run FILE --serve
 * [PORT]`: the live run's bus, and the store for past runs). Both refuse a
 * non-loopback address without a token, and print where they listen (never
 * the token).
 */
import type { AlertsPlugin } from "../metrics/alerts-plugin.ts";
import { ServedStore } from "../metrics/served-store.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { RunPlugin } from "../pipeline/plugin.ts";
import { stateHome } from "../pipeline/run.ts";
import { systemClock } from "../runtime/clock.ts";
import { env, onSignal, stderr } from "../runtime/process.ts";
import { type Served, serve } from "../runtime/serve.ts";
import { startThread } from "../runtime/thread.ts";
import { createApp, type SluiceApp } from "./app.ts";
import { ServeConfigError, UnavailableError } from "./errors.ts";
import { isLoopback } from "./internal/auth.ts";
import { parseHost } from "./internal/origin.ts";
import { redriveStarter } from "./redrive.ts";
import { type MetricsStoreLike, storeQueries } from "./store-queries.ts";
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
  /** `sluice run --serve`: keep serving after the run ends, until SIGINT/SIGTERM (default: stop with the run). */
  readonly keepServing?: boolean;
  /** Called with the server's URL once it listens (the CLI prints it; benchmarks use this). */
  readonly onListening?: (url: string) => void;
  /**
   * `sluice serve`: loads a pipeline file (the CLI's loader, injected: the HTTP layer does not
   * import the CLI), so `POST /api/runs/{id}/redrive` can start redrives in this process.
   */
  readonly loadPipeline?: (file: string) => Promise<Pipeline<unknown>>;
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

/**
 * Each distinct message once on stderr: the store is caught up every 2 s
 * while serving, and a lasting problem (a damaged journal, a full disk) is
 * reported once, not every time, nor never.
 */
function warnOnce(): { warn: (message: string) => void; failed: (e: unknown) => void } {
  const seen = new Set<string>();
  const warn = (message: string) => {
    if (seen.has(message)) return;
    seen.add(message);
    stderr.write(`sluice: warning: ${message}\n`);
  };
  return {
    warn,
    failed: (e) =>
      warn(
        `catching up the metrics store failed (tried again every ${LIVE_CATCH_UP_MS / 1000} s): ${e instanceof Error ? e.message : String(e)}`,
      ),
  };
}

/** `sluice serve`: serves past runs until SIGINT/SIGTERM. Returns the exit code. */
export async function serveCommand(flags: ServeFlags): Promise<number> {
  const bind = resolveBind(flags);
  const { warn, failed } = warnOnce();
  const served = await ServedStore.open(flags.home, {
    onWarning: warn,
    onFreed: freed(flags),
    onWaiting: waitNote(flags),
  });
  if (served.stale && !flags.quiet) stderr.write(`sluice: note: ${served.stale} ${heldNote}\n`);
  // New runs' journals are caught up while serving (a copy is replaced by the store once it is free).
  const stopCatchUp = systemClock.every(LIVE_CATCH_UP_MS, () => void served.refresh().catch(failed));
  const home = stateHome(flags.home);
  const redrive = flags.loadPipeline ? redriveStarter({ home, load: flags.loadPipeline }) : undefined;
  const app = createApp({
    metrics: storeQueries(servedQueries(served)),
    home,
    redrive,
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
    // Redrives still running end interrupted (resumable with `sluice resume`), their journals closed.
    await redrive?.close();
    stopCatchUp();
    app.close();
    await served.close();
  }
  return 0;
}

/** How often a live run's journal is caught up into the store while `--serve` serves it. */
const LIVE_CATCH_UP_MS = 2000;

const heldNote = `It is served itself, caught up, as soon as it is free (tried every ${LIVE_CATCH_UP_MS / 1000} s).`;

/** How long `run --serve` waits for a held store before serving a copy of it. */
const RUN_STORE_WAIT_MS = 1000;

/** Says (unless quiet) that the store is held and how long the server waits for it. */
const waitNote = (flags: ServeFlags) => (message: string) => {
  if (!flags.quiet) stderr.write(`sluice: note: ${message}\n`);
};

/** Says (unless quiet) that a store which was held is now served itself. */
const freed = (flags: ServeFlags) => () => {
  if (!flags.quiet)
    stderr.write("sluice: note: the metrics store is free again: serving it, caught up on the journals.\n");
};

/**
 * `sluice run FILE --serve [PORT]` as a run plugin: serves the live run from
 * a worker thread (see `thread.ts`), so requests are answered while the
 * pipeline keeps this thread busy. Live views come from the bus; past runs
 * (and this one, a few seconds behind) from the metrics store, which this
 * plugin catches up from the journals as any reader does — the run itself
 * never writes it. Rules and alert resolution go to the run's alert engine
 * (`alerts`). The server stops when the run ends, however it ends, so the
 * command exits as a run without `--serve` does; with `keepServing`
 * (`--keep-serving`) it stays up for the dashboard until Ctrl-C.
 */
export function servePlugin(flags: ServeFlags, alerts?: AlertsPlugin): RunPlugin {
  let served: ServedStore | undefined;
  let url = "";
  let liveRunId: string | undefined;
  let stopCatchUp: (() => void) | undefined;
  let teardown: (() => Promise<void>) | undefined;
  let home = "";
  const cancel = new AbortController();
  let waiting = false;
  const { warn, failed } = warnOnce();
  const catchUpNow = async () => {
    await served?.refresh().catch(failed);
  };
  return {
    name: "serve",
    async prepare(ctx) {
      // One server however many runs this plugin serves (a benchmark runs many).
      if (teardown) return { signal: cancel.signal };
      const bind = resolveBind(flags);
      home = ctx.home;
      try {
        // The run waits for this: a held store is shown as a copy at once (it is served itself,
        // caught up, once free) rather than holding the run back for a reader's 10 s.
        served = await ServedStore.open(ctx.home, {
          onWarning: warn,
          onFreed: freed(flags),
          waitMs: RUN_STORE_WAIT_MS,
          onWaiting: waitNote(flags),
        });
        if (served.stale && !flags.quiet) stderr.write(`sluice: note: ${served.stale} ${heldNote}\n`);
      } catch (e) {
        if (!flags.quiet)
          stderr.write(
            `sluice: serving without the metrics store (${e instanceof Error ? e.message : String(e)})\n`,
          );
      }
      const config: ThreadConfig = {
        host: bind.host,
        port: bind.port,
        auth: {
          token: bind.token,
          allowWrites: flags.allowWrites,
          bindHost: bind.host,
          allowedHosts: bind.allowedHosts,
        },
        hasStore: served !== undefined,
        home,
      };
      const thread = startThread(
        new URL(`./thread-main.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url),
        config,
      );
      const stopRelay = serveThread(
        { post: (m) => thread.post(m), onMessage: (fn) => thread.onMessage(fn) },
        {
          bus: ctx.bus,
          clock: systemClock,
          metrics: served ? storeQueries(servedQueries(served, alerts ?? "run")) : undefined,
          cancel: (runId) => {
            if (runId !== liveRunId) return false;
            cancel.abort();
            return true;
          },
        },
      );
      teardown = async () => {
        stopRelay();
        await thread.terminate();
        await served?.close();
      };
      try {
        url = await new Promise<string>((resolve, reject) => {
          thread.onMessage((raw) => {
            const m = raw as FromThread;
            if (m.t === "listening") resolve(m.url);
            else if (m.t === "failed") reject(new ServeConfigError(m.message));
          });
          thread.onExit((code, error) =>
            reject(
              new ServeConfigError(
                `the HTTP server thread exited (${code})${error ? `: ${error.message}` : ""}`,
              ),
            ),
          );
        });
      } catch (e) {
        await teardown();
        throw e;
      }
      if (!flags.quiet) stderr.write(`sluice: serving the API and dashboard at ${url}/\n`);
      flags.onListening?.(url);
      return { signal: cancel.signal };
    },
    start(run) {
      liveRunId = run.runId;
      let busy = false;
      stopCatchUp = run.clock.every(LIVE_CATCH_UP_MS, () => {
        if (busy) return;
        busy = true;
        void catchUpNow().finally(() => {
          busy = false;
        });
      });
    },
    async close() {
      stopCatchUp?.();
      liveRunId = undefined;
      if (!flags.keepServing) {
        // The run is over, and so is its server (the process then exits as without --serve).
        await teardown?.();
        teardown = undefined;
        if (!flags.quiet)
          stderr.write(
            `sluice: run ended; stopped serving at ${url}/ (--keep-serving keeps the dashboard up until Ctrl-C)\n`,
          );
        return undefined;
      }
      await catchUpNow();
      // Let the dashboard show the final figures; keep serving until Ctrl-C.
      if (!flags.quiet)
        stderr.write(`sluice: run ended; still serving at ${url}/ (--keep-serving; Ctrl-C to stop)\n`);
      if (!waiting) void untilSignal().then(() => teardown?.());
      waiting = true;
      return undefined;
    },
  };
}

/**
 * The served store's queries, each on the store served when it starts. In a
 * run (`alerts` given), rules and alert resolution are the live run's alert
 * engine's; for `sluice serve`, the store's.
 */
function servedQueries(served: ServedStore, alerts?: AlertsPlugin | "run"): MetricsStoreLike {
  const use = served.use.bind(served);
  const base: MetricsStoreLike = {
    query: (sql, params, options) => use((s) => s.query(sql, params, options)),
    summary: (runId) => use((s) => s.summary(runId)),
    bottlenecks: (runId) => use((s) => s.bottlenecks(runId)),
    recommendations: (runId) => use((s) => s.recommendations(runId)),
    baselines: (q) => use((s) => s.baselines(q)),
    regressions: (t) => use((s) => s.regressions(t)),
    trends: (q) => use((s) => s.trends(q)),
    rules: (pipeline) => use((s) => s.rules(pipeline)),
    setRules: (rules) => use((s) => s.setRules(rules)),
    resolveAlert: (id) => use((s) => s.resolveAlert(id)),
  };
  if (alerts === undefined) return base;
  const engine = () => (alerts === "run" ? undefined : alerts.handle()?.engine);
  return {
    ...base,
    rules: async (pipeline) => engine()?.rules(pipeline) ?? use((s) => s.rules(pipeline)),
    setRules: async (rules) => {
      const e = engine();
      if (!e) throw new UnavailableError("no alert rules are evaluated here (SLUICE_METRICS=off)");
      return e.setRules(rules);
    },
    resolveAlert: async (id) => engine()?.resolve(id, systemClock.now()) ?? false,
  };
}
