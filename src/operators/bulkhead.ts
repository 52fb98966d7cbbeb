/**
 * @module `bulkhead`: caps how many calls of the wrapped stage's function run
 * at once, and how many callers may wait. The compartment belongs to the
 * operator value, so every pipeline (and every run) that uses the same
 * `bulkhead(...)` value shares it — that is the point: two pipelines calling
 * one fragile service get one budget.
 *
 * The unit of `concurrency` is one call of the user function, i.e. one
 * record: the wrapped stage is called on one record at a time (through the
 * shared inner-stage primitive), so `bulkhead({ concurrency: 3 },
 * mapAsync(f, { concurrency: 20 }))` runs at most 3 calls of `f`, whatever
 * the inner stage's own concurrency. (It counted chunks before, which let
 * the inner stage run 20 calls per chunk.) Each inner call holds one record,
 * so the wrapped function's `index` argument is 0. The unit of `queue` is a caller:
 * a chunk whose records wait for their first slot. The records of a chunk
 * that has started wait their turn in line and are never shed; a chunk that
 * arrives when every slot is busy and `queue` chunks already wait is shed:
 * its records fail at once with `BulkheadFullError` (dead letter, or an
 * enclosing `fallback`), and one `bulkhead.shed` event reports them.
 */
import { z } from "zod";
import type { Operator } from "../pipeline/types.ts";
import { BulkheadFullError } from "./errors.ts";
import { innerHooks, innerStage, type Outcome, settleOutcomes } from "./internal/inner-stage.ts";
import { makeOperator } from "./internal/operator.ts";
import { parseOptions } from "./internal/options.ts";
import { Semaphore } from "./internal/resilience.ts";

/** Validation and documentation of `bulkhead()` options. */
export const BulkheadOptionsSchema = z
  .object({
    concurrency: z
      .number()
      .int()
      .positive()
      .describe(
        "Calls of the wrapped function (records) that may run at once, across every user of the value.",
      ),
    queue: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe("Chunks that may wait for a first free slot; more are shed."),
  })
  .strict();

/** Options of {@link bulkhead}. */
export interface BulkheadOptions {
  /** Calls of the wrapped function (one record each) that may run at once. */
  readonly concurrency: number;
  /** Chunks that may wait for a first free slot (default 0); the next ones are shed. */
  readonly queue?: number;
}

/**
 * Limits concurrent calls into `stage`, shedding what does not fit.
 *
 * @example
 * ```ts
 * const pricing = bulkhead({ concurrency: 4, queue: 8 }, mapAsync(async (o) => priceOf(o), { concurrency: 32 }));
 * pipeline("a").from(iterable(ordersA)).via(pricing).to(collect()); // at most 4 priceOf calls, shared with "b"
 * pipeline("b").from(iterable(ordersB)).via(pricing).to(collect());
 * ```
 */
export function bulkhead<A, B>(options: BulkheadOptions, stage: Operator<A, B>): Operator<A, B> {
  const o = parseOptions("bulkhead", BulkheadOptionsSchema, options);
  // Records of admitted chunks wait without limit; admission (below) bounds the callers.
  const slots = new Semaphore(o.concurrency, Number.POSITIVE_INFINITY);
  let waiting = 0;
  return makeOperator<A, B>(`bulkhead.${stage.name}`, "one", (ctx) => {
    const inner = innerStage("bulkhead", stage, ctx);
    return {
      ...innerHooks(inner.stage),
      type: "chunk",
      process(records, chunk) {
        if (records.length === 0) return [];
        if (slots.running >= o.concurrency && waiting >= o.queue) {
          ctx.emit({ kind: "bulkhead.shed", stage: ctx.stage, records: records.length, queued: waiting });
          const error = new BulkheadFullError(ctx.stage, o.concurrency, o.queue);
          return settleOutcomes(
            ctx,
            records,
            chunk,
            records.map((): Outcome<B> => ({ ok: false, error, attempts: 0 })),
          );
        }
        waiting++;
        let started = false;
        const outcomes: Outcome<B>[] = new Array(records.length);
        const one = async (i: number) => {
          const permit = slots.acquire();
          if (permit !== true && permit !== false) await permit;
          if (!started) {
            started = true;
            waiting--;
          }
          try {
            outcomes[i] = (await inner.call([records[i]], chunk))[0];
          } finally {
            slots.release();
          }
        };
        return Promise.all(records.map((_, i) => one(i))).then(() =>
          settleOutcomes(ctx, records, chunk, outcomes),
        );
      },
    };
  });
}
