/**
 * @module `aggregate`: keyed aggregation over the whole input, emitted when
 * the input ends (one record per key, in first-seen order). State is a map of
 * accumulators in the keyed state backend (`internal/state/value-log.ts`):
 * each checkpoint logs only the groups changed since the previous one, and
 * resume replays that log, so totals are exact after a crash and a checkpoint
 * costs what changed, not the number of groups. (Windows over event time are
 * a separate operator.)
 */
import { ConfigError } from "../pipeline/errors.ts";
import { rejectUnknownOptions } from "../pipeline/internal/options.ts";
import type { Operator } from "../pipeline/types.ts";
import { paths } from "../runtime/fs.ts";
import type { Key } from "./dedupe.ts";
import { makeOperator, recordFailed } from "./internal/operator.ts";
import { LoggedMap, type ValueLogToken } from "./internal/state/value-log.ts";

type Field<A> = Extract<keyof A, string>;

/** One output column: `"count"`, or `[fn, field]` with fn sum/min/max/avg/first/last. */
export type AggregateSpec<A> =
  | "count"
  | readonly ["sum" | "min" | "max" | "avg" | "first" | "last", Field<A>];

export interface AggregateOptions<A, S extends Record<string, AggregateSpec<A>>> {
  /** Group key (default: one group for everything). */
  readonly key?: (record: A) => Key;
  /** Output columns. */
  readonly aggregate: S;
}

export type AggregateResult<S> = { key: Key } & { [K in keyof S]: number | unknown };

/**
 * Groups records by key and computes the named aggregates per group.
 *
 * @example
 * ```ts
 * pipeline("p")
 *   .from(csv("orders.csv", { schema: Order }))
 *   .via(aggregate({ key: (o) => o.category, aggregate: { n: "count", revenue: ["sum", "amount"] } }))
 *   .to(ndjson("out/revenue.ndjson"));
 * ```
 */
export function aggregate<A, S extends Record<string, AggregateSpec<A>>>(
  options: AggregateOptions<A, S>,
): Operator<A, AggregateResult<S>> {
  rejectUnknownOptions("aggregate()", options, ["key", "aggregate"]);
  const columns = Object.entries(options.aggregate ?? {});
  if (columns.length === 0) {
    throw new ConfigError('aggregate(): give at least one output column, e.g. { n: "count" }');
  }
  for (const [name, spec] of columns) {
    const ok =
      spec === "count" ||
      (Array.isArray(spec) &&
        ["sum", "min", "max", "avg", "first", "last"].includes(spec[0]) &&
        typeof spec[1] === "string");
    if (!ok) {
      throw new ConfigError(`aggregate(): column "${name}" has an unknown spec ${JSON.stringify(spec)}`, {
        hint: 'Use "count" or [fn, field] with fn one of sum, min, max, avg, first, last.',
      });
    }
  }
  const keyFn = options.key ?? (() => null);
  // Accumulator layout per group: for each column, [value, count].
  const width = columns.length;
  return makeOperator<A, AggregateResult<S>>("aggregate", "many", (ctx) => {
    let state: LoggedMap<unknown[]> | undefined;
    let groups = new Map<Key, unknown[]>();
    return {
      type: "chunk",
      async start() {
        state = await LoggedMap.open(paths.join(ctx.runDir, "state", ctx.stage.replace(/[^\w.-]/g, "_")));
        groups = state.map;
      },
      process(records, chunk) {
        const st = state as LoggedMap<unknown[]>;
        for (let i = 0; i < records.length; i++) {
          const r = records[i];
          let k: Key;
          try {
            k = keyFn(r);
          } catch (e) {
            recordFailed(ctx, chunk, i, r, e);
            continue;
          }
          let acc = groups.get(k);
          if (!acc) acc = new Array(width * 2).fill(undefined);
          st.set(k, acc); // new, or changed in place below: logged at the next checkpoint
          for (let c = 0; c < width; c++) {
            const spec = columns[c][1];
            const j = c * 2;
            acc[j + 1] = ((acc[j + 1] as number | undefined) ?? 0) + 1;
            if (spec === "count") continue;
            const v = (r as Record<string, unknown>)[spec[1]];
            const prev = acc[j];
            switch (spec[0]) {
              case "sum":
              case "avg":
                acc[j] = ((prev as number | undefined) ?? 0) + Number(v);
                break;
              case "min":
                if (prev === undefined || (v as number) < (prev as number)) acc[j] = v;
                break;
              case "max":
                if (prev === undefined || (v as number) > (prev as number)) acc[j] = v;
                break;
              case "first":
                if (acc[j + 1] === 1) acc[j] = v;
                break;
              case "last":
                acc[j] = v;
                break;
            }
          }
        }
        return [];
      },
      end() {
        const out: AggregateResult<S>[] = [];
        for (const [k, acc] of groups) {
          const o: Record<string, unknown> = { key: k };
          for (let c = 0; c < width; c++) {
            const [name, spec] = columns[c];
            const v = acc[c * 2];
            const n = acc[c * 2 + 1] as number;
            o[name] = spec === "count" ? n : spec[0] === "avg" ? (v as number) / n : v;
          }
          out.push(o as AggregateResult<S>);
        }
        return out;
      },
      snapshot: () => (state as LoggedMap<unknown[]>).checkpoint(),
      restore(snapshot) {
        const st = state as LoggedMap<unknown[]>;
        // A snapshot of an older sluice held the accumulators themselves.
        if (Array.isArray(snapshot)) {
          for (const [k, acc] of snapshot as Array<[Key, unknown[]]>) st.set(k, acc.slice());
          return;
        }
        return st.restore(snapshot as ValueLogToken);
      },
      close: () => state?.close(),
    };
  });
}
