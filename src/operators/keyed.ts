/**
 * @module `keyed(key, fn, options)`: user code with per-key state. `fn(state,
 * record, ctx)` returns the key's new state (`undefined` deletes it) and may
 * `ctx.emit` any number of records. With `time`, the stage keeps an
 * event-time watermark (as the windows do) and `ctx.setTimer(at)` calls
 * `onTimer` when the watermark reaches `at`; end of input is a final
 * watermark that fires every timer. `ttl` drops a key's state when it was
 * not set for that long: on event time with `time` (exact, also after a
 * resume), else on the run's clock.
 *
 * State (`KeyedState`) is snapshotted at each checkpoint barrier and
 * restored on resume, so a killed and resumed run emits exactly what an
 * uninterrupted one does (with `time`; a TTL on the run's clock depends on
 * when records arrive).
 */
import { z } from "zod";
import type { Operator } from "../pipeline/types.ts";
import type { Duration } from "../pipeline/units.ts";
import type { Key } from "./dedupe.ts";
import { type EventTimeOption, eventTimeReader, readEventTime } from "./internal/event-time.ts";
import { KeyedState } from "./internal/keyed-state.ts";
import { normalKey } from "./internal/keys.ts";
import { makeOperator, recordFailed } from "./internal/operator.ts";
import { DurationSchema, fn, parseOptions } from "./internal/options.ts";
import { Watermark, type WatermarkSnapshot } from "./internal/watermark.ts";

/** What `fn` and `onTimer` may do besides returning the new state. */
export interface KeyedContext<B> {
  readonly key: Key;
  /** The record's event time (epoch ms; with `time`), or the timer's time in `onTimer`. */
  readonly time: number | undefined;
  /** The stage's watermark (with `time`): −Infinity before the first record. */
  readonly watermark: number;
  /** Sends a record downstream. */
  emit(record: B): void;
  /** Calls `onTimer` for this key when the watermark reaches `at` (event time; once per key and time). */
  setTimer(at: number | Date): void;
}

export interface KeyedOptions<A, S, B> {
  /** Event time of a record (a field or a function): enables the watermark, timers and an event-time TTL. */
  readonly time?: EventTimeOption<A>;
  /** The watermark: max event time seen − outOfOrder (default 0). */
  readonly watermark?: { readonly outOfOrder: Duration };
  /** Drops a key's state not set for this long. */
  readonly ttl?: Duration;
  /** Called for each due timer, in order of time; returns the key's new state. */
  readonly onTimer?: (state: S | undefined, ctx: KeyedContext<B>) => S | undefined;
  /** Most keys held; beyond it the run fails with a clear error (default 10,000,000). */
  readonly maxKeys?: number;
}

const KeyedOptionsSchema = z.strictObject({
  time: z.union([z.string().min(1), fn("time")]).optional(),
  watermark: z.strictObject({ outOfOrder: DurationSchema }).optional(),
  ttl: DurationSchema.optional(),
  onTimer: fn("onTimer").optional(),
  maxKeys: z.number().int().positive().default(10_000_000),
});

interface Snapshot {
  readonly wm: WatermarkSnapshot;
  readonly keys: unknown;
}

/**
 * Per-key state for your own logic, kept in checkpoints.
 *
 * @example
 * ```ts
 * // A running total per user, and a "quiet" record one hour (event time) after a user's last order.
 * keyed(
 *   (o: Order) => o.user,
 *   (total: number | undefined, o, ctx) => {
 *     ctx.setTimer(ctx.time! + 3_600_000);
 *     ctx.emit({ user: o.user, total: (total ?? 0) + o.amount });
 *     return (total ?? 0) + o.amount;
 *   },
 *   { time: "ts", ttl: "1d", onTimer: (total, ctx) => (ctx.emit({ user: ctx.key, quiet: true, total }), total) },
 * );
 * ```
 */
export function keyed<A, S, B>(
  key: (record: A) => Key,
  fn: (state: S | undefined, record: A, ctx: KeyedContext<B>) => S | undefined,
  options: KeyedOptions<A, S, B> = {},
): Operator<A, B> {
  const o = parseOptions("keyed", KeyedOptionsSchema, options);
  const timeOf = options.time === undefined ? undefined : eventTimeReader<A>(options.time);
  const onTimer = options.onTimer;
  return makeOperator<A, B>("keyed", "many", (ctx) => {
    const wm = new Watermark(o.watermark?.outOfOrder ?? 0, undefined, false);
    const state = new KeyedState<S>(ctx.stage, o.ttl, o.maxKeys);
    const eventTtl = timeOf !== undefined;
    let out: B[] = [];
    const context = (k: Key, time: number | undefined): KeyedContext<B> => ({
      key: k,
      time,
      watermark: wm.value,
      emit: (r) => void out.push(r),
      setTimer: (at) => {
        const t = readEventTime(at);
        if (t === undefined) throw new TypeError(`setTimer: ${String(at)} is not a time`);
        state.timer(k, t);
      },
    });
    /** Fires the timers and TTLs the watermark passed. */
    const advance = () => {
      const w = wm.value;
      for (let t = state.nextTimer(w); t !== undefined; t = state.nextTimer(w)) {
        if (onTimer) state.set(t.key, onTimer(state.get(t.key), context(t.key, t.at)), t.at);
      }
      if (eventTtl) state.expire(w);
    };
    return {
      type: "chunk",
      process(records, chunk) {
        out = [];
        if (!eventTtl && o.ttl !== undefined) state.expire(ctx.clock.now());
        const now = eventTtl ? 0 : ctx.clock.now();
        for (let i = 0; i < records.length; i++) {
          const r = records[i];
          let ts: number | undefined;
          try {
            if (timeOf) {
              ts = timeOf(r);
              if (ts === undefined) {
                ctx.deadLetter({
                  reason: `${ctx.stage}: event time unreadable (not a Date, an ISO-8601 string or epoch milliseconds)`,
                  position: { chunk: chunk.seq, index: i },
                  record: r,
                });
                continue;
              }
            }
            const k = normalKey(key(r));
            const emitted = out.length;
            try {
              state.set(k, fn(state.get(k), r, context(k, ts)), ts ?? now);
            } catch (e) {
              out.length = emitted; // a failed call emits nothing
              throw e;
            }
          } catch (e) {
            recordFailed(ctx, chunk, i, r, e);
            continue;
          }
          if (ts !== undefined && wm.observe(ts)) advance();
        }
        return out;
      },
      end() {
        out = [];
        wm.finish();
        advance();
        return out;
      },
      snapshot: (): Snapshot => ({ wm: wm.snapshot(), keys: state.snapshot() }),
      restore(saved) {
        const s = saved as Snapshot;
        wm.restore(s.wm);
        state.restore(s.keys);
      },
    };
  });
}
