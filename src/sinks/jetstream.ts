/**
 * @module NATS JetStream sink (DESIGN §8): publishes each record to a subject
 * as one message (JSON, or the string itself with `format: "text"`), with
 * the message id `<runId>:<row>`. A resumed run does not publish a row twice:
 * inside the stream's duplicate window the server drops the repeat, and
 * beyond it the journal decides (the commit token counts the rows acked; a
 * ledger in the run's directory counts those acked since, and they are
 * skipped): see `internal/jetstream-writer.ts`. Declared at-least-once
 * because a broker ack on nats-server 2.9 does not yet mean the message is on
 * disk, and a machine crash may lose the ledger's tail.
 *
 * The NATS client is loaded when the sink opens, never by a run that does
 * not write to a subject.
 */
import { z } from "zod";
import { parseComponentOptions } from "../pipeline/internal/options.ts";
import { type Sink, type SinkContext, SinkTypeId, type SinkWriter } from "../pipeline/types.ts";

export const JetStreamSinkOptions = z
  .object({
    /** The server, e.g. `"nats://127.0.0.1:4222"`. */
    nats: z.string().min(1),
    /** The subject to publish to (no wildcards). */
    subject: z.string().regex(/^[^\s*>]+$/, "a subject without spaces or wildcards"),
    /** The stream that must capture the subject: the run fails at start when it does not. */
    stream: z.string().min(1).optional(),
    /** `"json"` (default): each record as JSON; `"text"`: string records as they are. */
    format: z.enum(["json", "text"]).default("json"),
  })
  .strict();
export type JetStreamSinkOptions = z.input<typeof JetStreamSinkOptions>;

/**
 * Publishes records to a JetStream subject.
 *
 * @example
 * ```ts
 * pipeline("enrich")
 *   .from(csv("in/orders.csv"))
 *   .to(jetstream({ nats: "nats://127.0.0.1:4222", subject: "orders.enriched", stream: "ENRICHED" }));
 * ```
 */
export function jetstream<A = unknown>(options: JetStreamSinkOptions): Sink<A> {
  const o = parseComponentOptions("jetstream()", JetStreamSinkOptions, options);
  return {
    [SinkTypeId]: true,
    name: `jetstream(${o.subject})`,
    delivery: "at-least-once",
    async open(ctx: SinkContext): Promise<SinkWriter<A>> {
      const { openWriter } = await import("./internal/jetstream-writer.ts");
      return openWriter<A>({ url: o.nats, subject: o.subject, stream: o.stream, format: o.format }, ctx);
    },
  };
}
