/**
 * @module `chunk`: re-chunking (DESIGN §2: "the chunking operator decides
 * chunk size"). Merges small chunks and splits big ones to a fixed row count,
 * a byte budget, or an adaptive row count that follows how long the stages
 * after it take per chunk. It is a `stream` stage because its output does not
 * follow its input one to one; a barrier flushes the partial chunk and then
 * passes, so a checkpoint covers exactly the records before it.
 */
import * as Cause from "effect/Cause";
import * as Effect from "effect/Effect";
import * as Pull from "effect/Pull";
import * as Stream from "effect/Stream";
import type { Chunk } from "../pipeline/chunk.ts";
import { ConfigError } from "../pipeline/errors.ts";
import type { Operator, StageContext } from "../pipeline/types.ts";
import { type Duration, type Size, toBytes, toMillis } from "../pipeline/units.ts";
import { AdaptiveSize, bytesSizer, rowsSizer, type Sizer } from "./internal/chunk-sizer.ts";
import { makeOperator } from "./internal/operator.ts";

export interface AdaptiveChunkOptions {
  /** Time the downstream should take per chunk (default "50ms"). */
  readonly targetLatency?: Duration;
  /** Fewest rows per chunk (default 100). */
  readonly min?: number;
  /** Most rows per chunk (default 100_000). */
  readonly max?: number;
  /** Rows per chunk to start with (default `min`). */
  readonly initial?: number;
}

/** Exactly one of `rows`, `bytes` or `adaptive`. */
export type ChunkOptions<A> =
  | { readonly rows: number }
  | {
      readonly bytes: Size;
      /** Bytes of one record; default: the incoming chunk's `bytes / records`, or a sampled estimate. */
      readonly sizeOf?: (record: A) => number;
    }
  | { readonly adaptive: AdaptiveChunkOptions };

/**
 * Re-chunks the stream: `{ rows: 1000 }`, `{ bytes: "1MiB" }` or
 * `{ adaptive: { targetLatency: "50ms", min: 100, max: 100_000 } }`. The
 * adaptive size publishes a `config.changed` event (setting `chunk.rows`) with
 * its reason on each change.
 *
 * @example
 * ```ts
 * pipeline("p")
 *   .from(ndjson("events.ndjson"))
 *   .via(chunk({ adaptive: { targetLatency: "50ms" } }), mapAsync(enrich, { concurrency: 64 }))
 *   .to(collect());
 * ```
 */
export function chunk<A>(options: ChunkOptions<A>): Operator<A, A> {
  const make = sizing(options);
  return makeOperator<A, A>("chunk", "one", (ctx) => ({
    type: "stream",
    apply: (input) => rechunk(input, ctx, make()),
  }));
}

interface Sizing<A> {
  readonly sizer: Sizer<A>;
  readonly adaptive?: AdaptiveSize;
}

function sizing<A>(o: ChunkOptions<A>): () => Sizing<A> {
  const modes = ["rows", "bytes", "adaptive"].filter((k) => o && k in o);
  if (modes.length !== 1) {
    throw new ConfigError(
      `chunk(): give exactly one of rows, bytes or adaptive (got ${modes.join(", ") || "none"})`,
      {
        hint: 'e.g. chunk({ rows: 1000 }), chunk({ bytes: "1MiB" }) or chunk({ adaptive: { targetLatency: "50ms" } })',
      },
    );
  }
  if ("rows" in o) {
    const rows = positiveInt(o.rows, "rows");
    return () => ({ sizer: rowsSizer(() => rows) });
  }
  if ("bytes" in o) {
    const bytes = toBytes(o.bytes, "chunk() bytes");
    if (bytes < 1) throw new ConfigError("chunk(): bytes must be at least 1");
    if (o.sizeOf !== undefined && typeof o.sizeOf !== "function")
      throw new ConfigError("chunk(): sizeOf must be a function (record) => bytes");
    return () => ({ sizer: bytesSizer(bytes, o.sizeOf) });
  }
  const a = o.adaptive ?? {};
  const min = positiveInt(a.min ?? 100, "adaptive.min");
  const max = positiveInt(a.max ?? 100_000, "adaptive.max");
  const initial = positiveInt(a.initial ?? min, "adaptive.initial");
  if (min > max || initial < min || initial > max)
    throw new ConfigError(`chunk(): need adaptive.min <= initial <= max (got ${min}, ${initial}, ${max})`);
  const targetMs = toMillis(a.targetLatency ?? "50ms", "chunk() adaptive.targetLatency");
  if (targetMs <= 0) throw new ConfigError("chunk(): adaptive.targetLatency must be more than 0");
  return () => {
    const adaptive = new AdaptiveSize({ targetMs, min, max, initial });
    return { sizer: rowsSizer(() => adaptive.rows), adaptive };
  };
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1)
    throw new ConfigError(`chunk(): ${what} must be a positive integer, got ${String(v)}`);
  return v;
}

type NonEmpty<A> = [Chunk<A>, ...Chunk<A>[]];
const END: unique symbol = Symbol("end of input");

function rechunk<A, E>(
  input: Stream.Stream<Chunk<A>, E>,
  ctx: StageContext,
  { sizer, adaptive }: Sizing<A>,
): Stream.Stream<Chunk<A>, E> {
  // The output chunk being built.
  let buf: A[] = [];
  let bufBytes = 0;
  let head: Chunk<A> | undefined;
  let headStart: Chunk<A>["start"];
  let tailEnd: Chunk<A>["end"];

  const flush = (out: Chunk<A>[]) => {
    if (!head) return;
    out.push({
      records: buf,
      seq: head.seq,
      start: headStart,
      end: tailEnd,
      bytes: bufBytes,
      createdAt: head.createdAt,
    });
    buf = [];
    bufBytes = 0;
    head = undefined;
  };

  const add = (c: Chunk<A>, out: Chunk<A>[]) => {
    const recs = c.records;
    const n = recs.length;
    const per = sizer.perRecord(recs, c.bytes);
    let i = 0;
    while (i < n) {
      const full = sizer.fill(buf.length, bufBytes, recs, i, per);
      const k = sizer.taken;
      const start = i === 0 ? c.start : undefined;
      const end = i + k === n ? c.end : undefined;
      if (!head && full) {
        // A whole output chunk from one input: no copy when it is the entire input.
        const records = i === 0 && k === n ? recs : recs.slice(i, i + k);
        out.push({ records, seq: c.seq, start, end, bytes: sizer.takenBytes, createdAt: c.createdAt });
      } else {
        if (!head) {
          head = c;
          headStart = start;
        }
        for (let j = i; j < i + k; j++) buf.push(recs[j]);
        bufBytes += sizer.takenBytes;
        tailEnd = end;
        if (full) flush(out);
      }
      i += k;
    }
  };

  return Stream.transformPull(input, (pull) =>
    Effect.sync(() => {
      let ended = false;
      // When the last output was handed downstream, and its rows (adaptive only).
      let handedAt = -1;
      let handedRows = 0;

      const handOut = (out: NonEmpty<A>): Effect.Effect<NonEmpty<A>> => {
        if (adaptive) {
          handedAt = ctx.clock.monotonic();
          handedRows = 0;
          for (const c of out) {
            if (c.barrier) {
              // A commit downstream is not chunk processing time.
              handedRows = 0;
              break;
            }
            handedRows += c.records.length;
          }
        }
        return Effect.succeed(out);
      };

      const observe = () => {
        if (!adaptive || handedAt < 0) return;
        const change = adaptive.observe(ctx.clock.monotonic() - handedAt, handedRows);
        handedAt = -1;
        if (change) ctx.emit({ kind: "config.changed", stage: ctx.stage, setting: "chunk.rows", ...change });
      };

      const step = (
        arr: ReadonlyArray<Chunk<A>> | typeof END,
      ): Effect.Effect<NonEmpty<A>, E | Cause.Done> => {
        const out: Chunk<A>[] = [];
        if (arr === END) {
          flush(out);
          return out.length ? handOut(out as NonEmpty<A>) : Cause.done();
        }
        for (let i = 0; i < arr.length; i++) {
          const c = arr[i];
          if (c.barrier) {
            flush(out);
            out.push(c);
          } else add(c, out);
        }
        return out.length ? handOut(out as NonEmpty<A>) : loop;
      };

      // Pulls until there is output (small inputs are merged without emitting).
      const loop: Effect.Effect<NonEmpty<A>, E | Cause.Done> = Effect.suspend(() => {
        if (ended) return Cause.done();
        const pulled = Pull.catchDone(pull, () => {
          ended = true;
          return Effect.succeed(END);
        });
        return Effect.flatMap(pulled, step);
      });

      return Effect.suspend(() => {
        observe();
        return loop;
      });
    }),
  );
}
