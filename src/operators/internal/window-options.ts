/**
 * @module The options of `window.tumbling`, `window.sliding` and
 * `window.session`: the TypeScript types users see and the zod schema that
 * checks them (unknown options, bad durations, a missing `lateness` — there
 * is no hidden default — are one `ConfigError` naming the field).
 */
import { z } from "zod";
import { isSink, type Sink } from "../../pipeline/types.ts";
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
  /**
   * Where too-late records go: a sink (e.g. `ndjson("out/late.ndjson")`) that
   * gets one `LateRecord` per record, committed with the run's checkpoints and
   * finished when the run completes, exactly once like the main sink. Absent:
   * the dead letter, with the same reason.
   */
  readonly late?: Sink<LateRecord<A>>;
}

/**
 * What the `late` sink gets for each too-late record: the record, the window
 * it missed (the latest one that would have held it) and why.
 */
export interface LateRecord<A> {
  /** The record, unchanged. */
  readonly record: A;
  /** Its group key (`null` without `key`). */
  readonly key: Key;
  /** The window it missed, `[start, end)`. */
  readonly start: Date;
  readonly end: Date;
  /** Its event time, and the watermark it arrived at. */
  readonly eventTime: Date;
  readonly watermark: Date;
  /** watermark − event time, in milliseconds. */
  readonly lateByMs: number;
  /** `"late by 2m41s: event time … arrived at watermark …, after its window […) of key … closed …"`: the dead letter's reason. */
  readonly reason: string;
  /** The window stage (`"2:window.tumbling"`). */
  readonly stage: string;
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
  late: z
    .custom<Sink<unknown>>((v) => isSink(v), {
      error: (issue) =>
        `must be a sink such as ndjson("out/late.ndjson") (leave it out to send late records to the dead letter), got ${describeValue(issue.input)}`,
    })
    .optional()
    .describe("Sink for too-late records (default: the dead letter)."),
});

function describeValue(v: unknown): string {
  if (typeof v === "string")
    return `the string ${JSON.stringify(v)}: wrap a path in a sink, e.g. ndjson(${JSON.stringify(v)})`;
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object that is not a sink" : `a ${typeof v}`;
}

export type ParsedWindowOptions = z.output<typeof WindowOptionsSchema>;
