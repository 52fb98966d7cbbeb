/**
 * @module The shared constructor behind every operator (as Effect builds its
 * operators over one primitive): an operator is a name, a cardinality and a
 * `make(ctx)` that creates the per-run stage.
 */
import * as Effect from "effect/Effect";
import type { Chunk } from "../../pipeline/chunk.ts";
import { describeError, StageError } from "../../pipeline/errors.ts";
import { type Operator, OperatorTypeId, type Stage, type StageContext } from "../../pipeline/types.ts";

export function makeOperator<A, B>(
  name: string,
  cardinality: Operator<A, B>["cardinality"],
  make: (ctx: StageContext) => Stage<A, B>,
): Operator<A, B> {
  return { [OperatorTypeId]: true, name, cardinality, make };
}

/** A value a user function may return: plain, a promise, or an Effect. */
export type MaybeAsync<B> = B | PromiseLike<B> | Effect.Effect<B, unknown>;

/** True when `r` must be awaited (a thenable or an Effect). */
export function isAsync(r: unknown): boolean {
  return (
    typeof r === "object" &&
    r !== null &&
    (typeof (r as PromiseLike<unknown>).then === "function" || Effect.isEffect(r))
  );
}

/** Awaits a thenable or runs an Effect. */
export function settle<B>(r: MaybeAsync<B>): Promise<B> {
  if (Effect.isEffect(r)) return Effect.runPromise(r as Effect.Effect<B, unknown>);
  return Promise.resolve(r as PromiseLike<B>);
}

/**
 * Handles a user function that threw for one record: dead letter (default) or
 * stop the run when the pipeline says `onError: "fail"`.
 */
export function recordFailed<A>(
  ctx: StageContext,
  chunk: Chunk<A>,
  index: number,
  record: unknown,
  error: unknown,
  attempts = 1,
): void {
  if (ctx.onError === "fail") {
    throw new StageError(
      `stage ${ctx.stage} failed on record ${index} of chunk ${chunk.seq}: ${describeError(error)}`,
      {
        cause: error,
        hint: 'Fix the function, or let failed records go to the dead letter (pipeline option onError: "dead-letter").',
      },
    );
  }
  ctx.deadLetter({
    reason: `${ctx.stage} threw: ${describeError(error)}`,
    error,
    attempts,
    position: { chunk: chunk.seq, index, ...positionOf(chunk) },
    record,
  });
}

function positionOf<A>(chunk: Chunk<A>): { file?: string; line?: number; byteOffset?: number } {
  const s = chunk.start;
  if (!s) return {};
  return {
    file: typeof s.file === "string" ? s.file : undefined,
    byteOffset: typeof s.byte === "number" ? s.byte : undefined,
  };
}
