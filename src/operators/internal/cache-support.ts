/**
 * @module The parts of `cache()` that are not the per-chunk path: its options
 * schema, opening the L2 directory and warm-up. Kept apart so `cache.ts`
 * reads as the hit/miss logic only.
 */
import * as Effect from "effect/Effect";
import * as Stream from "effect/Stream";
import { z } from "zod";
import type { Chunk } from "../../pipeline/chunk.ts";
import { NAME_PATTERN } from "../../pipeline/pipeline.ts";
import { isSource, type Source, type StageContext } from "../../pipeline/types.ts";
import { fs, paths } from "../../runtime/fs.ts";
import { normalizeKey } from "./cache-key.ts";
import { type CacheStore, NEVER } from "./cache-store.ts";
import type { KvEnv } from "./kv-store.ts";
import { DurationSchema, fn, SizeSchema } from "./options.ts";

/** `[key, value]` pairs to load before the first record. */
export type WarmUp<B> =
  | Iterable<readonly [string | number, B]>
  | AsyncIterable<readonly [string | number, B]>
  | Source<readonly [string | number, B]>;

/** Validation and documentation of `cache()` options (see `CacheOptions`). */
export const CacheOptionsSchema = z
  .object({
    key: fn("key").optional().describe("Cache key of a record; default: stable serialisation of the record."),
    ttl: DurationSchema.optional().describe("How long an entry is served after it was computed."),
    maxEntries: z.number().int().positive().default(10_000).describe("L1 bound in entries."),
    maxBytes: SizeSchema.prefault("64MiB").describe("L1 bound in estimated bytes."),
    sizeOf: fn("sizeOf").optional().describe("Bytes of a value, for the L1 bound."),
    disk: z
      .union([
        z.boolean(),
        z.object({
          maxEntries: z.number().int().positive().default(1_000_000),
          promoteAfter: z.number().int().positive().default(1),
          sync: z.boolean().default(false),
        }),
      ])
      .default(false)
      .describe("L2 on disk under <home>/cache/<namespace>."),
    namespace: z
      .string()
      .regex(NAME_PATTERN, "letters, digits, '_', '.', ':' or '-'")
      .optional()
      .describe("L2 directory name; default <pipeline>.<stage>."),
    version: z.union([z.string(), z.number()]).default("1").describe("Bump when the stage changes."),
    statsInterval: DurationSchema.prefault("1s").describe("Interval of cache.stats events."),
    warmUp: z
      .custom<WarmUp<unknown>>(
        (v) =>
          typeof v === "object" &&
          v !== null &&
          (Symbol.iterator in v || Symbol.asyncIterator in v || isSource(v)),
        { message: "warmUp must be an iterable, an async iterable or a source of [key, value] pairs" },
      )
      .optional(),
  })
  .strict();

type Parsed = z.output<typeof CacheOptionsSchema>;

/** Opens the L2 directory of a cache stage. */
export async function openL2(
  ctx: StageContext,
  o: Parsed,
): Promise<{
  env: KvEnv;
  close: () => Promise<void>;
  options: { maxEntries: number; promoteAfter: number; version: string };
}> {
  const d = o.disk === true ? { maxEntries: 1_000_000, promoteAfter: 1, sync: false } : o.disk || undefined;
  if (!d) throw new Error("openL2 called without disk options");
  const namespace = o.namespace ?? `${ctx.pipeline}.${ctx.stage}`.replace(/[^A-Za-z0-9_.-]/g, "_");
  const dir = paths.join(ctx.home, "cache", namespace);
  await fs.mkdirp(dir, 0o700);
  // LMDB (a native module and ~25 files) loads only for a cache with a disk tier.
  const { openKvEnv } = await import("./kv-store.ts");
  const env = await openKvEnv(dir, { sync: d.sync });
  return {
    env,
    close: () => env.close(),
    options: { maxEntries: d.maxEntries, promoteAfter: d.promoteAfter, version: String(o.version) },
  };
}

/** Loads warm-up pairs into the store (as computed values: they reach L2 at the next flush). */
export async function warmUp<B>(
  ctx: StageContext,
  from: WarmUp<B>,
  store: CacheStore<B>,
  ttl: number | undefined,
): Promise<void> {
  const put = (pair: readonly [string | number, B]) =>
    store.set(normalizeKey(pair[0]), pair[1], ttl === undefined ? NEVER : ctx.clock.now() + ttl);
  if (isSource(from)) {
    const source = from as Source<readonly [string | number, B]>;
    const stream = source.open({ ...ctx, reportRead: () => {} });
    await Effect.runPromise(
      Stream.runForEach(stream, (c: Chunk<readonly [string | number, B]>) =>
        Effect.sync(() => c.records.forEach(put)),
      ),
    );
    return;
  }
  for await (const pair of from as AsyncIterable<readonly [string | number, B]>) put(pair);
}
