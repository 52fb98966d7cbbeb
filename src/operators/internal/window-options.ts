/**
 * @module The options of `window.tumbling`, `window.sliding` and
 * `window.session`: the TypeScript types users see and the zod schema that
 * checks them (unknown options, bad durations, a missing `lateness` — there
 * is no hidden default — are one `ConfigError` naming the field).
 */
import { z } from "zod";
import type { Duration } from "../../pipeline/units.ts";
import type { Key } from "../dedupe.ts";
import type { EventTimeOption } from "./event-time.ts";
import { DurationSchema, fn } from "./options.ts";
import type { PartitionId } from "./watermark.ts";
import type { ColumnValue, WindowColumn } from "./window-columns.ts";

/** How the watermark follows event time. */
export interface WatermarkOptions<A> {
  /** How far behind the largest event time seen records may arrive: watermark = max − outOfOrder. */
  readonly outOfOrder: Duration;
  /**
   * The input partition of a record (e.g. `(r) => r.shard`, or the file of a
   * merged source): the watermark is the minimum over partitions.
   */
  readonly partition?: (record: A) => PartitionId;
  /** A partition silent this long (processing time) stops holding the watermark back. */
  readonly idle?: Duration;
}

export interface WindowOptions<A, S extends Record<string, WindowColumn<A>>> {
  /** Event time: a field or a function giving a Date, an ISO-8601 string or epoch ms. */
  readonly time: EventTimeOption<A>;
  readonly watermark: WatermarkOptions<A>;
  /** How long a window's state is kept after it fired, for late records (required: `0` for none). */
  readonly lateness: Duration;
  /** Group key (default: one group, key `null`). */
  readonly key?: (record: A) => Key;
  /** Output columns: `"count"`, `[fn, field]` as in `aggregate`, or a reducer. */
  readonly aggregate: S;
  /**
   * `"final"` (default): one result per window, when `watermark ≥ end + lateness`.
   * `"updates"`: a result when `watermark ≥ end`, and again for each late record.
   */
  readonly emit?: "final" | "updates";
  /** Interval of `window.progress` events (default "1s"). */
  readonly statsInterval?: Duration;
}

/** One output record: the key, the window `[start, end)` and the columns. */
export type WindowResult<S> = { key: Key; start: Date; end: Date } & { [K in keyof S]: ColumnValue<S[K]> };

/** Validation of the options (the columns are checked by `Columns`). */
export const WindowOptionsSchema = z.strictObject({
  time: z
    .union([z.string().min(1), fn("time")])
    .describe("Event time: a field name or a function of the record (Date, ISO string, epoch ms)."),
  watermark: z
    .strictObject({
      outOfOrder: DurationSchema.describe("Bound on disorder: watermark = max event time seen − outOfOrder."),
      partition: fn("watermark.partition").optional().describe("Input partition of a record."),
      idle: DurationSchema.optional().describe(
        "Silence after which a partition stops holding the watermark.",
      ),
    })
    .describe("How the watermark follows event time."),
  lateness: DurationSchema.describe("How long state is kept after a window fired, for late records."),
  key: fn("key").optional().describe("Group key; default one group."),
  aggregate: z.record(z.string(), z.unknown()).describe("Output columns."),
  emit: z
    .enum(["final", "updates"])
    .default("final")
    .describe("final: once per window; updates: on each firing."),
  statsInterval: DurationSchema.prefault("1s").describe("Interval of window.progress events."),
});

export type ParsedWindowOptions = z.output<typeof WindowOptionsSchema>;
