/**
 * @module Running the server in a worker thread (`sluice run --serve`). The
 * pipeline's thread may hold its event loop for long stretches (parsing,
 * user functions); answering HTTP there would make every request wait for
 * it. So the app runs in its own thread: the main thread relays the bus's
 * events to it in batches every 25 ms and answers its metrics-store calls
 * (the store lives where it is written; DuckDB runs the query on its own
 * threads, the main thread only hands the result over, and the series cache
 * in the server thread keeps those calls to a few per second).
 *
 * Protocol, main → thread: `events` (a batch), `reply` (to a call);
 * thread → main: `call` (a `MetricsQueries` method or `cancel`), `listening`.
 */
import type { EventBus } from "../events/bus.ts";
import type { EventKind, SluiceEvent } from "../events/schema.ts";
import type { Clock } from "../runtime/clock.ts";
import { BadRequestError } from "./errors.ts";
import type { LiveBus, MetricsQueries } from "./types.ts";

export type ToThread =
  | { readonly t: "events"; readonly events: readonly SluiceEvent[] }
  | { readonly t: "reply"; readonly id: number; readonly value?: unknown; readonly error?: WireError };
export type FromThread =
  | { readonly t: "call"; readonly id: number; readonly method: string; readonly args: readonly unknown[] }
  | { readonly t: "listening"; readonly url: string }
  | { readonly t: "failed"; readonly message: string };

interface WireError {
  readonly tag?: string;
  readonly message: string;
  readonly field?: string;
}

/** The store methods a thread may call (the allow-list of the RPC). */
export const REMOTE_METHODS = [
  "ping",
  "runs",
  "summary",
  "events",
  "series",
  "alerts",
  "bottlenecks",
  "recommendations",
  "baselines",
  "regressions",
  "trends",
  "benchmarks",
  "rules",
  "setRules",
  "resolveAlert",
] as const satisfies ReadonlyArray<keyof MetricsQueries>;

function toWire(e: unknown): WireError {
  const tag = (e as { _tag?: unknown } | null)?._tag;
  return {
    tag: typeof tag === "string" ? tag : undefined,
    message: e instanceof Error ? e.message : String(e),
    field: e instanceof BadRequestError ? e.field : undefined,
  };
}

function fromWire(w: WireError): Error {
  if (w.tag === "BadRequestError" && w.field)
    return new BadRequestError(w.field, w.message.replace(`${w.field}: `, ""));
  return Object.assign(new Error(w.message), w.tag ? { _tag: w.tag, name: w.tag } : {});
}

/** Main-thread side: relays `bus` to the thread and serves its calls. Returns a stop function. */
export function serveThread(
  channel: { post(m: ToThread): void; onMessage(fn: (m: unknown) => void): void },
  deps: { bus: EventBus; clock: Clock; metrics?: MetricsQueries; cancel?: (runId: string) => boolean },
): () => void {
  let pending: SluiceEvent[] = [];
  const sub = deps.bus.subscribe((e) => {
    pending.push(e);
  });
  const flush = () => {
    if (pending.length === 0) return;
    const events = pending;
    pending = [];
    try {
      channel.post({ t: "events", events });
    } catch {
      // A record that structured clone refuses (a function, a class instance): send plain JSON instead.
      channel.post({ t: "events", events: JSON.parse(JSON.stringify(events)) });
    }
  };
  const stop = deps.clock.every(25, flush);
  channel.onMessage((raw) => {
    const m = raw as FromThread;
    if (m.t !== "call") return;
    const reply = (value?: unknown, error?: unknown) =>
      channel.post({ t: "reply", id: m.id, value, error: error === undefined ? undefined : toWire(error) });
    if (m.method === "cancel") return reply(deps.cancel?.(String(m.args[0])) ?? false);
    const store = deps.metrics;
    const fn = (REMOTE_METHODS as readonly string[]).includes(m.method)
      ? (store?.[m.method as (typeof REMOTE_METHODS)[number]] as
          | ((...a: unknown[]) => Promise<unknown>)
          | undefined)
      : undefined;
    if (!store || !fn)
      return reply(undefined, Object.assign(new Error("no metrics store"), { _tag: "UnavailableError" }));
    fn.apply(store, [...m.args]).then(
      (v) => reply(v),
      (e) => reply(undefined, e),
    );
  });
  return () => {
    flush();
    stop();
    sub.unsubscribe();
  };
}

/** Thread side: a bus fed by the relay, a `MetricsQueries` and `cancel` that call the main thread. */
export function threadDeps(channel: {
  post(m: FromThread): void;
  onMessage(fn: (m: unknown) => void): void;
}): {
  bus: LiveBus;
  metrics: MetricsQueries;
  cancel: (runId: string) => Promise<boolean>;
} {
  const subscribers = new Set<{ fn: (e: SluiceEvent) => void; kinds?: ReadonlySet<EventKind> }>();
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  channel.onMessage((raw) => {
    const m = raw as ToThread;
    if (m.t === "events") {
      for (const e of m.events) for (const s of subscribers) if (!s.kinds || s.kinds.has(e.kind)) s.fn(e);
    } else if (m.t === "reply") {
      const c = calls.get(m.id);
      calls.delete(m.id);
      if (m.error) c?.reject(fromWire(m.error));
      else c?.resolve(m.value);
    }
  });
  const call = (method: string, args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = ++next;
      calls.set(id, { resolve, reject });
      channel.post({ t: "call", id, method, args });
    });
  const metrics = Object.fromEntries(
    REMOTE_METHODS.map((name) => [name, (...args: unknown[]) => call(name, args)]),
  ) as unknown as MetricsQueries;
  return {
    bus: {
      subscribe(fn, kinds) {
        const entry = { fn, kinds: kinds ? new Set(kinds) : undefined };
        subscribers.add(entry);
        return { unsubscribe: () => subscribers.delete(entry) };
      },
    },
    metrics,
    cancel: async (runId) => Boolean(await call("cancel", [runId])),
  };
}
