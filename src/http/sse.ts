/**
 * @module Server-Sent Events for live runs. One hub per app collects the
 * bus's events and, every `intervalMs` (100 ms) on the injected clock, sends
 * each stream the events of its run as one `batch` message, so a busy run
 * costs a client ten messages a second however many events it publishes.
 * A stream that cannot keep up (its unsent bytes pass `maxQueuedBytes`) is
 * closed rather than allowed to grow; the client reconnects and resumes.
 */
import type { SluiceEvent } from "../events/schema.ts";
import type { Clock } from "../runtime/clock.ts";
import type { LiveBus } from "./types.ts";

interface Client {
  readonly runId: string;
  readonly kinds?: ReadonlySet<string>;
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  closed: boolean;
}

export interface SseOptions {
  readonly intervalMs?: number;
  readonly heartbeatMs?: number;
  readonly maxQueuedBytes?: number;
}

const encoder = new TextEncoder();

export class SseHub {
  readonly #clients = new Set<Client>();
  #pending: SluiceEvent[] = [];
  #batch = 0;
  readonly #stops: Array<() => void> = [];
  readonly #maxQueued: number;

  constructor(bus: LiveBus, clock: Clock, options: SseOptions = {}) {
    this.#maxQueued = options.maxQueuedBytes ?? 4 << 20;
    const sub = bus.subscribe((e) => {
      if (this.#clients.size > 0) this.#pending.push(e);
    });
    this.#stops.push(
      () => sub.unsubscribe(),
      clock.every(options.intervalMs ?? 100, () => this.flush()),
      clock.every(options.heartbeatMs ?? 15_000, () => this.#broadcast(": ping\n\n")),
    );
  }

  get size(): number {
    return this.#clients.size;
  }

  /** A stream of `run`'s events; `first` is written before any batch (a snapshot). */
  open(runId: string, kinds: readonly string[] | undefined, first: string): ReadableStream<Uint8Array> {
    let client: Client | undefined;
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          client = { runId, kinds: kinds ? new Set(kinds) : undefined, controller, closed: false };
          this.#clients.add(client);
          controller.enqueue(encoder.encode(first));
        },
        cancel: () => {
          if (client) this.#drop(client);
        },
      },
      { highWaterMark: this.#maxQueued, size: (chunk) => chunk.byteLength },
    );
  }

  /** Sends what arrived since the last flush (the clock calls this every interval). */
  flush(): void {
    const events = this.#pending;
    if (events.length === 0) return;
    this.#pending = [];
    const id = ++this.#batch;
    const byRun = new Map<string, SluiceEvent[]>();
    for (const e of events) {
      let list = byRun.get(e.runId);
      if (!list) {
        list = [];
        byRun.set(e.runId, list);
      }
      list.push(e);
    }
    const cache = new Map<string, Uint8Array>();
    for (const c of this.#clients) {
      const list = byRun.get(c.runId);
      if (!list) continue;
      let bytes: Uint8Array | undefined;
      if (!c.kinds) {
        bytes = cache.get(c.runId);
        if (!bytes) {
          bytes = encoder.encode(`id: ${id}\nevent: batch\ndata: ${JSON.stringify(list)}\n\n`);
          cache.set(c.runId, bytes);
        }
      } else {
        const kinds = c.kinds;
        const mine = list.filter((e) => kinds.has(e.kind));
        if (mine.length === 0) continue;
        bytes = encoder.encode(`id: ${id}\nevent: batch\ndata: ${JSON.stringify(mine)}\n\n`);
      }
      this.#send(c, bytes);
    }
  }

  #broadcast(text: string): void {
    const bytes = encoder.encode(text);
    for (const c of this.#clients) this.#send(c, bytes);
  }

  #send(c: Client, bytes: Uint8Array): void {
    if (c.closed) return;
    if ((c.controller.desiredSize ?? 0) <= 0) {
      // The client is not reading: close it instead of buffering without bound.
      this.#drop(c);
      try {
        c.controller.close();
      } catch {}
      return;
    }
    try {
      c.controller.enqueue(bytes);
    } catch {
      this.#drop(c);
    }
  }

  #drop(c: Client): void {
    c.closed = true;
    this.#clients.delete(c);
  }

  close(): void {
    for (const stop of this.#stops) stop();
    for (const c of this.#clients) {
      this.#drop(c);
      try {
        c.controller.close();
      } catch {}
    }
  }
}
