/**
 * @module engine-overhead peers that need no runtime module: a plain loop
 * over arrays of 1,000 (the floor a batched engine is measured against), an
 * async generator of arrays of 1,000, RxJS per element and Effect Stream (per
 * element, and with its own internal batches). Each is written the way its documentation composes map, filter and
 * a reduction.
 */
import { Effect, Stream } from "effect";
import { from, lastValueFrom, map, reduce, filter as rxFilter } from "rxjs";
import type { OverheadWork } from "./overhead-work.ts";

export const BATCH = 1000;

/** Arrays of 1,000 (sliced like the sluice source does), map, filter, sum: plain loops. */
export function plainLoop(data: readonly number[], w: OverheadWork): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += BATCH) {
    const batch = data.slice(i, i + BATCH);
    const mapped = new Array<number>(batch.length);
    for (let j = 0; j < batch.length; j++) mapped[j] = w.map(batch[j]);
    const kept: number[] = [];
    for (let j = 0; j < mapped.length; j++) if (w.keep(mapped[j])) kept.push(mapped[j]);
    for (let j = 0; j < kept.length; j++) sum += kept[j];
  }
  return sum;
}

async function* batches(data: readonly number[]): AsyncGenerator<number[]> {
  for (let i = 0; i < data.length; i += BATCH) yield data.slice(i, i + BATCH);
}

/** The same loops over an async generator of arrays of 1,000 (one await per batch). */
export async function asyncGenerator(data: readonly number[], w: OverheadWork): Promise<number> {
  let sum = 0;
  for await (const batch of batches(data)) {
    const kept = batch.map(w.map).filter(w.keep);
    for (let j = 0; j < kept.length; j++) sum += kept[j];
  }
  return sum;
}

/** RxJS: one emission per element through map, filter and reduce (`from(array)`). */
export function rxjs(data: readonly number[], w: OverheadWork): Promise<number> {
  return lastValueFrom(
    from(data).pipe(
      map(w.map),
      rxFilter(w.keep),
      reduce((a, n) => a + n, 0),
    ),
  );
}

/**
 * Effect Stream with element-wise map, filter and fold. `pull` is how many
 * elements each pull carries: 1 is a stream of single elements (what a
 * queue, a callback or an event source gives), 1000 lets Effect batch
 * internally, as sluice does.
 */
export function effectStream(data: readonly number[], w: OverheadWork, pull: number): Promise<number> {
  return Effect.runPromise(
    Stream.fromIterable(data, { chunkSize: pull }).pipe(
      Stream.map(w.map),
      Stream.filter(w.keep),
      Stream.runFold(
        () => 0,
        (a: number, n: number) => a + n,
      ),
    ),
  );
}
