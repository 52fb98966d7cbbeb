/**
 * @module The event bus: synchronous fan-out to subscribers. Subscribers must
 * be cheap (append to a buffer, bump a counter); anything slow buffers and
 * works off the hot path. Synchronous delivery keeps event order identical for
 * every consumer, which the projections rely on.
 */
import type { EventKind, SluiceEvent } from "./schema.ts";

export type Subscriber = (event: SluiceEvent) => void;

export interface Subscription {
  unsubscribe(): void;
}

/** A synchronous publish/subscribe hub for one run (or one process). */
export class EventBus {
  #subscribers: Array<{ fn: Subscriber; kinds?: ReadonlySet<EventKind> }> = [];
  #errors = 0;

  publish(event: SluiceEvent): void {
    const subs = this.#subscribers;
    for (let i = 0; i < subs.length; i++) {
      const s = subs[i];
      if (s.kinds && !s.kinds.has(event.kind)) continue;
      try {
        s.fn(event);
      } catch (e) {
        // A broken consumer must not break the run or the other consumers;
        // it is counted and reported once per consumer by the caller's logs.
        this.#errors++;
        if (this.#errors <= 3) queueMicrotask(() => reportSubscriberError(e));
      }
    }
  }

  /** Subscribes to all events, or only to the given kinds. */
  subscribe(fn: Subscriber, kinds?: readonly EventKind[]): Subscription {
    const entry = { fn, kinds: kinds ? new Set(kinds) : undefined };
    this.#subscribers.push(entry);
    return {
      unsubscribe: () => {
        this.#subscribers = this.#subscribers.filter((s) => s !== entry);
      },
    };
  }

  get subscriberErrors(): number {
    return this.#errors;
  }
}

function reportSubscriberError(e: unknown): void {
  console.error(`sluice: an event subscriber failed: ${e instanceof Error ? e.message : String(e)}`);
}
