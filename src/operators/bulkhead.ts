/**
 * @module `bulkhead`: caps how many calls run at once inside a stage, and how
 * many may wait. The compartment belongs to the operator value, so every
 * pipeline (and every run) that uses the same `bulkhead(...)` value shares it
 * — that is the point: two pipelines calling one fragile service get one
 * budget. A call is one chunk's records. When `concurrency` calls are running
 * and `queue` are waiting, the chunk is shed: its records fail at once with
 * `BulkheadFullError` (dead letter, or an enclosing `fallback`), and one
 * `bulkhead.shed` event reports the shed records.
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
    concurrency: z.number().int().positive().describe("Calls that may run at once."),
    queue: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe("Calls that may wait for a slot; more are shed."),
  })
  .strict();

/** Options of {@link bulkhead}. */
export interface BulkheadOptions {
  /** Calls that may run at once. */
  readonly concurrency: number;
  /** Calls that may wait for a slot (default 0); the next ones are shed. */
  readonly queue?: number;
}

/**
 * Limits concurrent calls into `stage`, shedding what does not fit.
 *
 * @example
 * ```ts
 * const pricing = bulkhead({ concurrency: 4, queue: 8 }, map(async (o) => priceOf(o)));
 * pipeline("a").from(iterable(ordersA)).via(pricing).to(collect()); // shares the 4 slots with "b"
 * pipeline("b").from(iterable(ordersB)).via(pricing).to(collect());
 * ```
 */
export function bulkhead<A, B>(options: BulkheadOptions, stage: Operator<A, B>): Operator<A, B> {
  const o = parseOptions("bulkhead", BulkheadOptionsSchema, options);
  const slots = new Semaphore(o.concurrency, o.queue);
  return makeOperator<A, B>(`bulkhead.${stage.name}`, "one", (ctx) => {
    const inner = innerStage("bulkhead", stage, ctx);
    return {
      ...innerHooks(inner.stage),
      type: "chunk",
      process(records, chunk) {
        const permit = slots.acquire();
        if (permit === false) {
          ctx.emit({
            kind: "bulkhead.shed",
            stage: ctx.stage,
            records: records.length,
            queued: slots.queued,
          });
          const error = new BulkheadFullError(ctx.stage, o.concurrency, o.queue);
          return settleOutcomes(
            ctx,
            records,
            chunk,
            records.map((): Outcome<B> => ({ ok: false, error, attempts: 0 })),
          );
        }
        const call = async () => {
          if (permit !== true) await permit;
          try {
            return settleOutcomes(ctx, records, chunk, await inner.call(records, chunk));
          } finally {
            slots.release();
          }
        };
        return call();
      },
    };
  });
}
