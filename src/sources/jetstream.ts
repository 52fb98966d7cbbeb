/**
 * @module NATS JetStream source (DESIGN §8): reads a stream through a durable
 * pull consumer, one JSON record (or one string) per message. Acks are tied
 * to checkpoints: a message is acked only after the checkpoint that covers it
 * is durable (`SourceContext.onCommitted`), so a crash never loses a message.
 * The chunk offset is the stream sequence (`{ seq }`), so a resumed run reads
 * on exactly after its checkpoint; a fresh run of the same pipeline reads on
 * from the consumer's ack floor. A body that is not JSON goes to the dead
 * letter with its stream and sequence, and is acked with its checkpoint.
 *
 * The NATS client is loaded when the source opens, never by a run that does
 * not read a stream. Server: nats-server 2.9 or later (no 2.10 features).
 */
import * as Channel from "effect/Channel";
import * as Effect from "effect/Effect";
import * as Scope from "effect/Scope";
import * as Stream from "effect/Stream";
import { z } from "zod";
import type { Chunk } from "../pipeline/chunk.ts";
import { describeError, SourceError } from "../pipeline/errors.ts";
import { parseComponentOptions } from "../pipeline/internal/options.ts";
import { type Reparsed, type Source, type SourceContext, SourceTypeId } from "../pipeline/types.ts";
import type { ReaderSettings } from "./internal/jetstream-reader.ts";

export const JetStreamSourceOptions = z
  .object({
    /** The server, e.g. `"nats://127.0.0.1:4222"`. */
    nats: z.string().min(1),
    /** The stream to read. */
    stream: z.string().min(1),
    /** The durable consumer's name (default `sluice-<pipeline>`, made a valid name). */
    consumer: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, - and _ only")
      .optional(),
    /** Read only the messages of this subject (wildcards allowed). */
    filter: z.string().min(1).optional(),
    /** `"json"` (default): each body is one JSON record; `"text"`: each body is one string. */
    format: z.enum(["json", "text"]).default("json"),
    /**
     * `"never"` (default): a live feed that runs until stopped; `"drained"`: end once
     * everything that was in the stream when the run started has been read.
     */
    until: z.enum(["drained", "never"]).default("never"),
    /** Messages per chunk (default 1000); a partial chunk is cut after 100 ms without a full one. */
    batch: z.number().int().positive().default(1000),
  })
  .strict();
export type JetStreamSourceOptions = z.input<typeof JetStreamSourceOptions>;

/** A valid durable consumer name for a pipeline. */
export function consumerName(pipeline: string): string {
  return `sluice-${pipeline.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, 200);
}

/**
 * Reads a NATS JetStream stream.
 *
 * @example
 * ```ts
 * pipeline("orders")
 *   .from(jetstream({ nats: "nats://127.0.0.1:4222", stream: "ORDERS", until: "drained" }))
 *   .to(ndjson("out/orders.ndjson"));
 * ```
 */
export function jetstream<A = Record<string, unknown>>(options: JetStreamSourceOptions): Source<A> {
  const o = parseComponentOptions("jetstream()", JetStreamSourceOptions, options);
  const settings = (ctx: { pipeline: string }): ReaderSettings => ({
    url: o.nats,
    stream: o.stream,
    consumer: o.consumer ?? consumerName(ctx.pipeline),
    filter: o.filter,
    format: o.format,
    until: o.until,
    batch: o.batch,
    idleMs: 100,
  });
  return {
    [SourceTypeId]: true,
    name: `jetstream(${o.stream})`,
    async reparse(raw, position, ctx): Promise<Reparsed<A>> {
      const { decode } = await import("./internal/jetstream-reader.ts");
      const r = decode(settings(ctx), raw, position.seq ?? 0);
      return "record" in r ? { records: [r.record as A], failures: [] } : { records: [], failures: [r] };
    },
    open(ctx: SourceContext): Stream.Stream<Chunk<A>, SourceError> {
      return Stream.fromChannel(
        Channel.fromTransform((_upstream, scope) =>
          Effect.gen(function* () {
            const { JetStreamReader } = yield* Effect.promise(() => import("./internal/jetstream-reader.ts"));
            const reader = new JetStreamReader<A>(settings(ctx), ctx);
            yield* Scope.addFinalizer(
              scope,
              Effect.promise(() => reader.close()),
            );
            yield* Effect.tryPromise({
              try: () => reader.start(),
              catch: (e) =>
                e instanceof SourceError
                  ? e
                  : new SourceError(`jetstream(${o.stream}): ${describeError(e)}`, { cause: e }),
            });
            return reader.pull;
          }),
        ),
      );
    },
  };
}
