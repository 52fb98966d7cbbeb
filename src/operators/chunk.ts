/**
 * @module `chunk`: re-chunking (DESIGN §2: "the chunking operator decides
 * chunk size"). Merges small chunks and splits big ones to a fixed row count,
 * a byte budget, or an adaptive row count that follows how long the stages
 * after it take per chunk. It is a `stream` stage because its output does not
 * follow its input one to one; a barrier flushes the partial chunk and then
 * passes, so a checkpoint covers exactly the records before it.
 */
import type { Chunk } from "../pipeline/chunk.ts";
import { ConfigError } from "../pipeline/errors.ts";
import { rejectUnknownOptions } from "../pipeline/internal/options.ts";
import { type RechunkObserver, rechunk } from "../pipeline/internal/rechunk.ts";
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
    apply: (input) => {
      const { sizer, adaptive } = make();
      return rechunk(input, sizer, adaptive && observer(ctx, adaptive));
    },
  }));
}

/**
 * Times the downstream: from handing a batch of rows out to the next pull
 * (the stages after this one have then taken it through), barriers excluded
 * (a commit downstream is not chunk processing time).
 */
function observer<A>(ctx: StageContext, adaptive: AdaptiveSize): RechunkObserver<A> {
  let handedAt = -1;
  let handedRows = 0;
  return {
    handedOut(out: ReadonlyArray<Chunk<A>>) {
      handedAt = ctx.clock.monotonic();
      handedRows = 0;
      for (const c of out) {
        if (c.barrier) {
          handedRows = 0;
          break;
        }
        handedRows += c.records.length;
      }
    },
    beforePull() {
      if (handedAt < 0) return;
      const change = adaptive.observe(ctx.clock.monotonic() - handedAt, handedRows);
      handedAt = -1;
      if (change) ctx.emit({ kind: "config.changed", stage: ctx.stage, setting: "chunk.rows", ...change });
    },
  };
}

interface Sizing<A> {
  readonly sizer: Sizer<A>;
  readonly adaptive?: AdaptiveSize;
}

function sizing<A>(o: ChunkOptions<A>): () => Sizing<A> {
  rejectUnknownOptions("chunk()", o, ["rows", "bytes", "sizeOf", "adaptive"]);
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
  rejectUnknownOptions("chunk() adaptive", o.adaptive, ["targetLatency", "min", "max", "initial"]);
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
