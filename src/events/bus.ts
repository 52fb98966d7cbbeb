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
  /** Events published while held, and how many holds are open. */
  #held: SluiceEvent[] = [];
  #holds = 0;

  publish(event: SluiceEvent): void {
    if (this.#holds > 0) {
      this.#held.push(event);
      return;
    }
    this.#deliver(event);
  }

  /**
   * Holds back what is published until the returned function is called, which
   * delivers `first` (if given) and then the held events in order. A run holds
   * its bus while a checkpoint is made durable: the journal records the
   * checkpoint before anything published meanwhile, and every subscriber then
   * sees the same order the journal has (the metrics store numbers events by
   * it). Holds nest; events are delivered when the outermost is released.
   */
  hold(): (first?: SluiceEvent) => void {
    const at = this.#held.length;
    this.#holds++;
    let released = false;
    return (first) => {
      if (released) return;
      released = true;
      if (first) this.#held.splice(at, 0, first);
      if (--this.#holds > 0) return;
      const events = this.#held;
      this.#held = [];
      for (const e of events) this.#deliver(e);
    };
  }

  #deliver(event: SluiceEvent): void {
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
