/**
 * @module `MetricsStore.ingest`: loading events (a journal's) in large
 * batches, idempotent by (run, seq), with one flush in flight while the next
 * batch is buffered: DuckDB commits on its threads meanwhile, and the buffer
 * never holds more than two batches.
 */
import { durable, type SluiceEvent } from "../../events/schema.ts";
import type { HighWaterMark, MetricsWriter } from "./writer.ts";

/** An event with its per-run sequence number, as a journal reader can provide it. */
export type IngestEvent = SluiceEvent & { readonly seq?: number };

export interface IngestOptions {
  /**
   * Sequence number of the first event of each run in the iterable when
   * events carry none (default 1: the iterable starts at the run's first
   * durable event, as a journal read from its beginning does).
   */
  readonly firstSeq?: number;
  /**
   * Events per transaction (default 250 000, at most half of
   * `maxBufferedEvents`). A batch over DuckDB's row-group size (122 880 rows)
   * is written as compressed row groups while it is appended, instead of to
   * the write-ahead log and again at the next checkpoint.
   */
  readonly batchEvents?: number;
}

export interface IngestResult {
  readonly accepted: number;
  readonly skipped: number;
  readonly marks: Readonly<Record<string, HighWaterMark>>;
}

/** Events one at a time, or in arrays (`batches`: one await per array). */
export type IngestSource =
  | { readonly events: Iterable<IngestEvent> | AsyncIterable<IngestEvent> }
  | { readonly batches: AsyncIterable<readonly IngestEvent[]> | Iterable<readonly IngestEvent[]> };

/** While a flush is in flight, ingest lets the event loop turn once per this many events. */
const TURN_EVERY = 1024;

/**
 * Resolves on the next turn of the event loop, after pending I/O callbacks
 * such as DuckDB's answers (`setImmediate`, which node, bun and deno all
 * have; `setTimeout(0)` waits at least 1 ms, about a tenth of ingest's time).
 */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function ingest(
  writer: MetricsWriter,
  flush: () => Promise<void>,
  source: IngestSource,
  options: IngestOptions,
): Promise<IngestResult> {
  const first = options.firstSeq ?? 1;
  const batch = Math.max(1, Math.min(options.batchEvents ?? 250_000, Math.floor(writer.maxBuffered / 2)));
  const next = new Map<string, number>();
  let accepted = 0;
  let skipped = 0;
  // While a flush is in flight the loop lets the event loop turn every few
  // thousand events, so the flush's next step (its appends, then its
  // COMMIT) starts as soon as DuckDB answers instead of when this batch is
  // full.
  let inFlight: Promise<void> | undefined;
  let done = false;
  let sinceTurn = 0;
  const startFlush = async (): Promise<void> => {
    await inFlight;
    done = false;
    sinceTurn = 0;
    inFlight = flush().finally(() => {
      done = true;
    });
    // A failure is rethrown where the loop next awaits it; marked handled
    // here so that it is not reported as unhandled during a turn meanwhile.
    inFlight.catch(() => {});
  };
  /** Buffers one event; returns a promise only when the loop must wait. */
  const take = (e: IngestEvent): Promise<void> | undefined => {
    if (durable[e.kind] === false) {
      // Live-only kinds are not stored and take no sequence number (the journal has none).
      skipped++;
      return undefined;
    }
    let seq = e.seq;
    if (seq === undefined) {
      seq = next.get(e.runId) ?? first;
      next.set(e.runId, seq + 1);
    }
    if (writer.add(e, seq)) accepted++;
    else skipped++;
    if (writer.buffered >= batch) return startFlush();
    if (inFlight && !done && ++sinceTurn >= TURN_EVERY) {
      sinceTurn = 0;
      return turn();
    }
    return undefined;
  };
  if ("batches" in source) {
    for await (const events of source.batches) {
      for (const e of events) {
        const wait = take(e);
        if (wait) await wait;
      }
    }
  } else if (Symbol.iterator in source.events) {
    // A synchronous source is read without an await per event (each costs a promise).
    for (const e of source.events) {
      const wait = take(e);
      if (wait) await wait;
    }
  } else {
    for await (const e of source.events) {
      const wait = take(e);
      if (wait) await wait;
    }
  }
  await inFlight;
  await flush();
  return { accepted, skipped, marks: writer.marks() };
}
