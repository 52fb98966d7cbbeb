/**
 * @module The reading side of the JetStream source (loaded only when a
 * pipeline reads a stream, so other runs never load the NATS client).
 *
 * One durable pull consumer per pipeline (`AckPolicy.All`): a message is acked
 * only when `onCommitted` reports a durable checkpoint whose offset covers it,
 * and then only the last message that checkpoint covers is acked (acking it
 * acks everything before it). The consumer is deleted and created again at
 * every open, starting at the journal's offset + 1 on a resume, at the ack
 * floor + 1 on a fresh run of the same pipeline, or at the stream's start:
 * the run never waits out `ack_wait` for redeliveries of what a killed run
 * had pulled. A redelivery (a sequence already read) is skipped.
 *
 * Messages are taken through `consume()`'s iterator, whose next pull is only
 * sent as the iterator advances, into a buffer of at most two chunks: a slow
 * pipeline holds the server back instead of growing memory. A partial chunk
 * is cut `idleMs` after the source was asked for one; while idle with read
 * messages no checkpoint covers yet, the source emits empty chunks, so the
 * timed checkpoint (which waits for a chunk edge) still comes and acks them.
 */
import type { ConsumerMessages, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
import type { Chunk } from "../../pipeline/chunk.ts";
import { describeError, SourceError } from "../../pipeline/errors.ts";
import type { Committed, DeadLetterInput, SourceContext } from "../../pipeline/types.ts";
import { connectNats, type NatsConnection } from "../../runtime/nats.ts";

export interface ReaderSettings {
  readonly url: string;
  readonly stream: string;
  readonly consumer: string;
  readonly filter?: string;
  readonly format: "json" | "text";
  readonly until: "drained" | "never";
  readonly batch: number;
  readonly idleMs: number;
}

/** Redelivery after this long without an ack: far beyond a checkpoint interval. */
const ACK_WAIT_NS = 5 * 60 * 1e9;
const ACK = new TextEncoder().encode("+ACK");

/** A message's body as a record, or a dead letter. */
export function decode(s: ReaderSettings, body: string, seq: number): { record: unknown } | DeadLetterInput {
  if (s.format === "text") return { record: body };
  try {
    return { record: JSON.parse(body) };
  } catch (e) {
    return {
      reason: `jetstream(${s.stream}): message ${seq} is not JSON: ${describeError(e)}`,
      raw: body,
      position: { stream: s.stream, seq },
    };
  }
}

/** Opens the source's consumer: wraps a failure in a `SourceError` that says what to do. */
export async function openConsumer(s: ReaderSettings, nc: NatsConnection, resumeSeq: number | undefined) {
  const { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } = await import("@nats-io/jetstream");
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (e) {
    throw new SourceError(`jetstream: JetStream is not enabled on ${s.url}: ${describeError(e)}`, {
      hint: "Start the server with JetStream: nats-server -js -sd /var/lib/nats",
      cause: e,
    });
  }
  await streamExists(jsm, s.url, s.stream);
  let start = resumeSeq === undefined ? undefined : resumeSeq + 1;
  if (start === undefined) {
    const floor = await jsm.consumers.info(s.stream, s.consumer).catch(() => undefined);
    if (floor) start = floor.ack_floor.stream_seq + 1;
  }
  await jsm.consumers.delete(s.stream, s.consumer).catch(() => false);
  const info = await jsm.consumers.add(s.stream, {
    durable_name: s.consumer,
    ack_policy: AckPolicy.All,
    ack_wait: ACK_WAIT_NS,
    max_ack_pending: -1,
    deliver_policy: start === undefined ? DeliverPolicy.All : DeliverPolicy.StartSequence,
    ...(start === undefined ? {} : { opt_start_seq: start }),
    ...(s.filter ? { filter_subject: s.filter } : {}),
  });
  const consumer = await jetstream(nc).consumers.get(s.stream, s.consumer);
  return { consumer, pending: info.num_pending };
}

/** Throws a `SourceError` naming the stream and how to create it when it does not exist. */
export async function streamExists(jsm: JetStreamManager, url: string, stream: string): Promise<void> {
  try {
    await jsm.streams.info(stream);
  } catch (e) {
    const missing = (e as { code?: number }).code === 10059;
    throw new SourceError(
      missing
        ? `jetstream: stream "${stream}" does not exist on ${url}`
        : `jetstream: cannot read stream "${stream}" on ${url}: ${describeError(e)}`,
      {
        hint: missing
          ? `Create it first, e.g. \`nats stream add ${stream} --subjects '${stream.toLowerCase()}.>' --defaults\` or jetstreamManager(nc).streams.add({ name: "${stream}", subjects: ["${stream.toLowerCase()}.>"] }).`
          : undefined,
        cause: e,
      },
    );
  }
}

export class JetStreamReader<A> {
  #nc: NatsConnection | undefined;
  #messages: ConsumerMessages | undefined;
  /** Received, not yet in a chunk. */
  #buffer: JsMsg[] = [];
  /** Stream sequence of the last message received: lower ones are redeliveries. */
  #lastSeq: number;
  #emittedSeq: number;
  #committedSeq: number;
  /** The last message of each chunk not yet covered by a durable checkpoint. */
  #toAck: JsMsg[] = [];
  /** `until: "drained"`: messages still to read. */
  #remaining = Number.POSITIVE_INFINITY;
  #ended = false;
  #failure: SourceError | undefined;
  #wake: (() => void) | undefined;
  #room: (() => void) | undefined;
  #chunkSeq = 0;
  #bytes = 0;
  readonly #onStop = () => this.#signal();

  constructor(
    readonly s: ReaderSettings,
    readonly ctx: SourceContext,
  ) {
    const r = ctx.resumeFrom?.seq;
    this.#lastSeq = this.#emittedSeq = this.#committedSeq = typeof r === "number" ? r : 0;
  }

  async start(): Promise<void> {
    this.ctx.stopping?.addEventListener("abort", this.#onStop);
    this.ctx.signal.addEventListener("abort", this.#onStop);
    this.ctx.onCommitted?.((c) => this.#committed(c));
    try {
      this.#nc = await connectNats(this.s.url, { name: `sluice ${this.ctx.pipeline} source` });
    } catch (e) {
      throw new SourceError(`jetstream: ${describeError(e)}`, { cause: e });
    }
    const resume = typeof this.ctx.resumeFrom?.seq === "number" ? this.ctx.resumeFrom.seq : undefined;
    const { consumer, pending } = await openConsumer(this.s, this.#nc, resume);
    if (this.s.until === "drained") this.#remaining = pending;
    if (this.#remaining === 0) {
      this.#ended = true;
      return;
    }
    this.#messages = await consumer.consume({ max_messages: Math.min(this.s.batch, 10_000) });
    void this.#pump(this.#messages);
    void this.#watch(this.#messages);
  }

  async close(): Promise<void> {
    this.ctx.stopping?.removeEventListener("abort", this.#onStop);
    this.ctx.signal.removeEventListener("abort", this.#onStop);
    this.#ended = true;
    this.#room?.();
    await this.#messages?.close().catch(() => {});
    await closeNats(this.#nc);
  }

  /** The source's pull: the next chunk, or the end. */
  readonly pull: Effect.Effect<readonly [Chunk<A>], SourceError | Cause.Done> = Effect.flatMap(
    Effect.tryPromise({
      try: (signal) => this.#next(signal),
      catch: (e) =>
        e instanceof SourceError ? e : new SourceError(`jetstream: ${describeError(e)}`, { cause: e }),
    }),
    (c) => (c ? Effect.succeed([c] as const) : Cause.done()),
  );

  async #next(signal: AbortSignal): Promise<Chunk<A> | undefined> {
    const until = this.ctx.clock.monotonic() + this.s.idleMs;
    for (;;) {
      if (this.#failure) throw this.#failure;
      if (this.#buffer.length >= this.s.batch) return this.#take(this.s.batch);
      const stopped = this.ctx.stopping?.aborted || this.ctx.signal.aborted;
      if (this.#ended || stopped || signal.aborted) {
        return this.#buffer.length ? this.#take(this.#buffer.length) : undefined;
      }
      const idle = this.#buffer.length > 0 || this.#emittedSeq > this.#committedSeq;
      const timedOut = await this.#wait(idle ? until - this.ctx.clock.monotonic() : undefined, signal);
      if (!timedOut) continue;
      if (this.#buffer.length) return this.#take(this.#buffer.length);
      // Nothing new: an empty chunk gives the checkpoint timer the chunk edge it waits for.
      return this.#chunk([], this.#emittedSeq, 0);
    }
  }

  #take(n: number): Chunk<A> {
    const msgs = this.#buffer.splice(0, n);
    this.#room?.();
    const records: A[] = [];
    let bytes = 0;
    for (const m of msgs) {
      bytes += m.data.length;
      const r = decode(this.s, m.string(), m.seq);
      if ("record" in r) records.push(r.record as A);
      else this.ctx.deadLetter(r);
    }
    const last = msgs[msgs.length - 1];
    this.#toAck.push(last);
    this.#emittedSeq = last.seq;
    this.#bytes += bytes;
    this.ctx.reportRead(this.#bytes);
    return this.#chunk(records, last.seq, bytes, msgs[0].seq);
  }

  #chunk(records: A[], end: number, bytes: number, start = end + 1): Chunk<A> {
    return {
      records,
      seq: this.#chunkSeq++,
      start: { seq: start },
      end: { seq: end },
      bytes,
      createdAt: this.ctx.clock.monotonic(),
    };
  }

  /** Waits for a message, a stop or `ms` (none: no timeout); true when the time ran out. */
  #wait(ms: number | undefined, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = new AbortController();
      const done = (timedOut: boolean) => {
        this.#wake = undefined;
        timer.abort();
        signal.removeEventListener("abort", onAbort);
        resolve(timedOut);
      };
      const onAbort = () => done(false);
      this.#wake = () => done(false);
      signal.addEventListener("abort", onAbort, { once: true });
      if (ms !== undefined) {
        this.ctx.clock.sleep(Math.max(0, ms), timer.signal).then(
          () => done(true),
          () => {},
        );
      }
    });
  }

  #signal(): void {
    this.#wake?.();
  }

  async #pump(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        if (this.#ended) break;
        if (m.seq <= this.#lastSeq) continue; // a redelivery of what this run already read
        this.#lastSeq = m.seq;
        this.#buffer.push(m);
        this.#signal();
        if (--this.#remaining <= 0) break;
        if (this.#buffer.length >= 2 * this.s.batch) {
          await new Promise<void>((resolve) => {
            this.#room = resolve;
          });
          this.#room = undefined;
        }
      }
    } catch (e) {
      this.#failure ??= new SourceError(`jetstream(${this.s.stream}): reading failed: ${describeError(e)}`, {
        cause: e,
      });
    }
    this.#ended = true;
    this.#signal();
  }

  async #watch(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      if (s.type === "consumer_deleted" || s.type === "stream_not_found") {
        this.#failure ??= new SourceError(
          `jetstream(${this.s.stream}): ${s.type === "consumer_deleted" ? `consumer "${this.s.consumer}" was deleted` : "the stream was deleted"} while the run read it`,
          { hint: "Resume the run (sluice run … resumes): it creates the consumer again at its checkpoint." },
        );
        this.#signal();
      }
    }
  }

  /** A checkpoint is durable: ack the last message it covers (acking all before it). */
  async #committed(c: Committed): Promise<void> {
    const seq = typeof c.offset?.seq === "number" ? c.offset.seq : 0;
    if (seq <= this.#committedSeq) return;
    this.#committedSeq = seq;
    let last: JsMsg | undefined;
    while (this.#toAck.length && this.#toAck[0].seq <= seq) last = this.#toAck.shift();
    if (last) await this.#ack(last);
  }

  async #ack(m: JsMsg): Promise<void> {
    try {
      const nc = this.#nc;
      if (nc && !nc.isClosed() && !nc.isDraining()) {
        await m.ackAck({ timeout: 5000 });
        return;
      }
      // The stream ended (and closed its connection) before its last checkpoint: ack on a new one.
      const reply = (m as JsMsg & { readonly reply?: string }).reply;
      if (!reply) return;
      const once = await connectNats(this.s.url, { name: `sluice ${this.ctx.pipeline} ack` });
      try {
        await once.request(reply, ACK, { timeout: 5000 });
      } finally {
        await closeNats(once);
      }
    } catch (e) {
      // The journal decides what a resume reads; a lost ack only means a fresh run re-reads from the older floor.
      this.ctx.emit({
        kind: "warning",
        stage: this.ctx.stage,
        code: "ack-failed",
        message: `jetstream(${this.s.stream}): could not ack up to message ${m.seq}: ${describeError(e)}`,
      });
    }
  }
}

/** Drains `nc` (flushing what was published or acked) and closes it; never throws. */
async function closeNats(nc: NatsConnection | undefined): Promise<void> {
  if (!nc || nc.isClosed()) return;
  await nc.drain().catch(() => nc.close().catch(() => {}));
}
