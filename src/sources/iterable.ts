/**
 * @module A source over an in-memory iterable or an async iterable, cut into
 * chunks of `chunkSize` records. The offset is the record index, so a resumed
 * run skips the records it already covered (the iterable must yield the same
 * records in the same order to resume exactly).
 */
import * as Stream from "effect/Stream";
import type { Chunk } from "../pipeline/chunk.ts";
import { ConfigError, describeError, SourceError } from "../pipeline/errors.ts";
import { rejectUnknownOptions } from "../pipeline/internal/options.ts";
import { type Source, type SourceContext, SourceTypeId } from "../pipeline/types.ts";

export interface IterableOptions {
  /** Records per chunk (default 1000). */
  readonly chunkSize?: number;
  /** Name shown in progress and events. */
  readonly name?: string;
}

/**
 * Reads records from an array, iterable, async iterable or a function
 * returning one (called once per run, so a pipeline can run twice).
 *
 * @example
 * ```ts
 * pipeline("numbers").from(iterable([1, 2, 3])).via(map((n) => n * 2)).to(collect());
 * ```
 */
export function iterable<A>(
  items: Iterable<A> | AsyncIterable<A> | (() => Iterable<A> | AsyncIterable<A>),
  options: IterableOptions = {},
): Source<A> {
  rejectUnknownOptions("iterable()", options, ["chunkSize", "name"]);
  const size = options.chunkSize ?? 1000;
  if (!Number.isInteger(size) || size < 1) {
    throw new ConfigError(
      `iterable(): chunkSize must be a positive integer, got ${String(options.chunkSize)}`,
    );
  }
  return {
    [SourceTypeId]: true,
    name: options.name ?? "iterable",
    open(ctx: SourceContext): Stream.Stream<Chunk<A>, SourceError> {
      const skip = typeof ctx.resumeFrom?.index === "number" ? ctx.resumeFrom.index : 0;
      const source = typeof items === "function" ? items() : items;
      // chunkSize 1: one sluice chunk per pull. Effect's default (4096) would
      // slice 4096 chunks ahead before the first reaches a stage: millions of
      // records alive at once, promoted to the old generation (GC cost), and
      // read far ahead of the checkpoint barriers.
      if (Array.isArray(source))
        return Stream.fromIterable(arrayChunks(source as A[], size, skip, ctx), { chunkSize: 1 });
      return Stream.fromAsyncIterable(chunked(source, size, skip, ctx), (e) =>
        e instanceof SourceError
          ? e
          : new SourceError(`iterable source failed: ${describeError(e)}`, { cause: e }),
      );
    },
  };
}

function* arrayChunks<A>(items: A[], size: number, skip: number, ctx: SourceContext): Generator<Chunk<A>> {
  let seq = 0;
  for (let i = skip; i < items.length; i += size) {
    const records = items.slice(i, i + size);
    const end = Math.min(i + size, items.length);
    yield {
      records,
      seq: seq++,
      start: { index: i },
      end: { index: end },
      bytes: 0,
      createdAt: ctx.clock.monotonic(),
    };
  }
}

async function* chunked<A>(
  items: Iterable<A> | AsyncIterable<A>,
  size: number,
  skip: number,
  ctx: SourceContext,
): AsyncGenerator<Chunk<A>> {
  let seq = 0;
  let index = 0;
  let start = skip;
  let buf: A[] = [];
  for await (const item of items as AsyncIterable<A>) {
    if (index++ < skip) continue;
    buf.push(item);
    if (buf.length >= size) {
      yield {
        records: buf,
        seq: seq++,
        start: { index: start },
        end: { index },
        bytes: 0,
        createdAt: ctx.clock.monotonic(),
      };
      start = index;
      buf = [];
    }
  }
  if (buf.length) {
    yield {
      records: buf,
      seq: seq++,
      start: { index: start },
      end: { index },
      bytes: 0,
      createdAt: ctx.clock.monotonic(),
    };
  }
}
