/**
 * @module `window.tumbling`, `window.sliding`, `window.session`: keyed
 * aggregation over event-time windows `[start, end)` (DESIGN §5).
 *
 * Semantics, per record and in input order (so the output never depends on
 * how the input was cut into chunks, and a resumed run gives exactly the
 * output of an uninterrupted one):
 * 1. its event time `t` is read (unreadable → dead letter);
 * 2. it joins each of its windows still held at the current watermark `wm`
 *    (`wm < end + lateness`); when none is held it is too late and goes to
 *    the `late` sink when one is given (as a `LateRecord`: the record, the
 *    window it missed and the reason), else to the dead letter with
 *    "late by X" and that window — never dropped silently;
 * 3. the watermark moves to `max(t seen) − outOfOrder` (the minimum over
 *    partitions with `watermark.partition`), and windows it passed fire:
 *    `emit: "final"` emits once at `wm ≥ end + lateness`; `emit: "updates"`
 *    emits at `wm ≥ end` and again for each late record that joins.
 * End of input is a final watermark that closes every window.
 *
 * State (one small class per kind, `AlignedWindows` / `SessionWindows`) is
 * snapshotted at each checkpoint barrier and is bounded by the windows held,
 * not by the input.
 */
import { ConfigError } from "../pipeline/errors.ts";
import type { Operator } from "../pipeline/types.ts";
import type { Duration } from "../pipeline/units.ts";
import { toMillis } from "../pipeline/units.ts";
import type { Key } from "./dedupe.ts";
import { AlignedWindows, type EmitWindow } from "./internal/aligned-windows.ts";
import { eventTimeReader, showDuration, showTime } from "./internal/event-time.ts";
import { normalKey } from "./internal/keys.ts";
import { makeOperator, recordFailed } from "./internal/operator.ts";
import { parseOptions } from "./internal/options.ts";
import { SessionWindows } from "./internal/session-windows.ts";
import { Watermark, type WatermarkSnapshot } from "./internal/watermark.ts";
import { type Acc, Columns, type WindowColumn } from "./internal/window-columns.ts";
import {
  type LateRecord,
  type WindowOptions,
  WindowOptionsSchema,
  type WindowResult,
} from "./internal/window-options.ts";
import { windowStats } from "./internal/window-stats.ts";

export type { Reducer, WindowColumn } from "./internal/window-columns.ts";
export type {
  LateRecord,
  WatermarkOptions,
  WindowOptions,
  WindowResult,
} from "./internal/window-options.ts";

/** What the operator needs of a window kind's state. */
interface WindowState<A> {
  readonly open: number;
  add(r: A, ts: number, seq: number, key: Key, wm: number, emit: EmitWindow): boolean;
  advance(wm: number, emit: EmitWindow): void;
  snapshot(): unknown;
  restore(state: unknown): void;
}

type Kind =
  | { readonly type: "tumbling"; readonly size: number }
  | { readonly type: "sliding"; readonly size: number; readonly every: number }
  | { readonly type: "session"; readonly gap: number };

interface Snapshot {
  readonly wm: WatermarkSnapshot;
  readonly seq: number;
  readonly windows: unknown;
}

function windowOperator<A, S extends Record<string, WindowColumn<A>>>(
  kind: Kind,
  options: WindowOptions<A, S>,
): Operator<A, WindowResult<S>> {
  const name = `window.${kind.type}()`;
  const o = parseOptions(name.slice(0, -2), WindowOptionsSchema, options);
  const columns = new Columns<A>(name, options.aggregate, kind.type === "session");
  const timeOf = eventTimeReader<A>(options.time);
  const keyOf = options.key ?? (() => null);
  const partitionOf = options.watermark.partition;
  const lateness = o.lateness;
  const updates = o.emit === "updates";
  const describeTime = typeof options.time === "string" ? `field "${options.time}"` : "the time function";

  return makeOperator<A, WindowResult<S>>(`window.${kind.type}`, "many", (ctx) => {
    const wm = new Watermark(o.watermark.outOfOrder, o.watermark.idle, partitionOf !== undefined);
    const state: WindowState<A> =
      kind.type === "session"
        ? new SessionWindows<A>(kind.gap, lateness, updates, columns)
        : new AlignedWindows<A>(
            kind.size,
            kind.type === "sliding" ? kind.every : kind.size,
            lateness,
            updates,
            columns,
          );
    const stats = windowStats(ctx, wm, () => state.open, o.statsInterval);
    const lateOut = options.late && ctx.sideOutput<LateRecord<A>>("late", options.late);
    let seq = 0;
    let out: WindowResult<S>[] = [];
    const emit: EmitWindow = (key, start, end, acc: Acc) => {
      const r: Record<string, unknown> = { key, start: new Date(start), end: new Date(end) };
      columns.result(acc, r);
      out.push(r as WindowResult<S>);
    };
    /** The window a too-late record missed (the latest one holding it), for the reason. */
    const missed = (ts: number): [number, number] => {
      if (kind.type === "session") return [ts, ts + kind.gap];
      const every = kind.type === "sliding" ? kind.every : kind.size;
      const start = Math.floor(ts / every) * every;
      return [start, start + kind.size];
    };
    const idle = o.watermark.idle !== undefined;

    return {
      type: "chunk",
      process(records, chunk) {
        out = [];
        if (idle) wm.tick(ctx.clock.monotonic());
        for (let i = 0; i < records.length; i++) {
          const r = records[i];
          let ts: number | undefined;
          let key: Key;
          let part: string | number | undefined;
          try {
            ts = timeOf(r);
            if (ts === undefined) {
              ctx.deadLetter({
                reason: `${ctx.stage}: event time unreadable (${describeTime} is not a Date, an ISO-8601 string or epoch milliseconds)`,
                position: { chunk: chunk.seq, index: i },
                record: r,
              });
              continue;
            }
            key = normalKey(keyOf(r));
            if (partitionOf) part = partitionOf(r);
          } catch (e) {
            recordFailed(ctx, chunk, i, r, e);
            continue;
          }
          const w = wm.value;
          if (state.add(r, ts, seq++, key, w, emit)) {
            if (ts < w) stats.lateAccepted++;
          } else {
            const [start, end] = missed(ts);
            stats.late++;
            const reason = `late by ${showDuration(w - ts)}: event time ${showTime(ts)} arrived at watermark ${showTime(w)}, after its window [${showTime(start)}, ${showTime(end)}) of key ${JSON.stringify(key) ?? String(key)} closed (end + lateness ${showDuration(lateness)})`;
            if (lateOut) {
              lateOut.write({
                record: r,
                key,
                start: new Date(start),
                end: new Date(end),
                eventTime: new Date(ts),
                watermark: new Date(w),
                lateByMs: w - ts,
                reason,
                stage: ctx.stage,
              });
            } else ctx.deadLetter({ reason, position: { chunk: chunk.seq, index: i }, record: r });
          }
          const skew = wm.maxSeen - ts;
          if (skew > stats.maxSkew) stats.maxSkew = skew;
          if (wm.observe(ts, part)) state.advance(wm.value, emit);
        }
        return out;
      },
      end() {
        out = [];
        stats.report();
        wm.finish();
        state.advance(wm.value, emit);
        return out;
      },
      snapshot: (): Snapshot => ({ wm: wm.snapshot(), seq, windows: state.snapshot() }),
      restore(saved) {
        const s = saved as Snapshot;
        wm.restore(s.wm);
        seq = s.seq;
        state.restore(s.windows);
      },
      start: async () => stats.start(),
      close: () => stats.stop(),
    };
  });
}

function positive(what: string, d: Duration): number {
  const ms = toMillis(d, what);
  if (!(ms > 0)) throw new ConfigError(`${what}: must be more than 0, got ${String(d)}`);
  return ms;
}

/**
 * Event-time windows. Every kind takes the same options: `time`,
 * `watermark: { outOfOrder, partition?, idle? }`, `lateness` (required),
 * `key`, `aggregate` (as `aggregate`, plus reducers), `emit` and `late` (a
 * sink for too-late records; default the dead letter). Output records are
 * `{ key, start, end, ...columns }` with `start`/`end` as Dates.
 *
 * @example
 * ```ts
 * pipeline("revenue")
 *   .from(csv("orders.csv", { schema: Order }))
 *   .via(window.tumbling("1m", {
 *     time: (o) => o.ts,
 *     watermark: { outOfOrder: "30s" },
 *     lateness: "2m",
 *     key: (o) => o.category,
 *     aggregate: { n: "count", revenue: ["sum", "amount"] },
 *     late: ndjson("out/late-orders.ndjson"), // optional: else the dead letter
 *   }))
 *   .to(duckdb({ table: "revenue_per_minute" }));
 * ```
 */
export const window = {
  /** Fixed, non-overlapping windows of `size`: `[k·size, (k+1)·size)`. */
  tumbling<A, S extends Record<string, WindowColumn<A>>>(
    size: Duration,
    options: WindowOptions<A, S>,
  ): Operator<A, WindowResult<S>> {
    return windowOperator({ type: "tumbling", size: positive("window.tumbling() size", size) }, options);
  },
  /** Windows of `size` starting every `every` (`every ≤ size`): a record is in `size / every` of them. */
  sliding<A, S extends Record<string, WindowColumn<A>>>(
    size: Duration,
    every: Duration,
    options: WindowOptions<A, S>,
  ): Operator<A, WindowResult<S>> {
    const s = positive("window.sliding() size", size);
    const e = positive("window.sliding() every", every);
    if (e > s) {
      throw new ConfigError(
        `window.sliding(): every (${String(every)}) is longer than size (${String(size)})`,
        {
          hint: "Records between two windows would belong to none: use every ≤ size (every = size is tumbling).",
        },
      );
    }
    return windowOperator({ type: "sliding", size: s, every: e }, options);
  },
  /** Per key, a window per burst of activity: records at most `gap` apart share one (`[first, last + gap)`). */
  session<A, S extends Record<string, WindowColumn<A>>>(
    gap: Duration,
    options: WindowOptions<A, S>,
  ): Operator<A, WindowResult<S>> {
    return windowOperator({ type: "session", gap: positive("window.session() gap", gap) }, options);
  },
} as const;
