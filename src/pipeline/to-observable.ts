/**
 * @module A pipeline consumed as an RxJS `Observable` of its records (DESIGN
 * §2: "any pipeline can be consumed as an Observable"). Each subscription is
 * one run (the pipeline's own sink is replaced, as with `runCollect`).
 * Observables cannot slow a producer down, so records are pushed as fast as
 * the pipeline makes them. Unsubscribing stops the run: no record reaches the
 * subscriber after it, and the run stops reading and ends as `interrupted`
 * with a last checkpoint, like Ctrl-C.
 */
// RxJS's root entry loads all of RxJS (~300 modules, 0.1–0.3 s at start-up
// on Node, measured); the classes come from their own modules (a published
// export path, "rxjs/internal/*"), the same instances the root re-exports.
import { Observable } from "rxjs/internal/Observable";
import type { Pipeline } from "./pipeline.ts";
import { type RunOptions, type RunSummary, runPipeline } from "./run.ts";
import { type Sink, SinkTypeId } from "./types.ts";

export interface ToObservableOptions extends RunOptions {
  /** Called with the run's summary when it ends (completed, failed or interrupted). */
  readonly onSummary?: (summary: RunSummary) => void;
}

/**
 * Runs the pipeline on subscribe and emits its records; errors with the
 * run's error if it fails, completes when it completes.
 *
 * @example
 * ```ts
 * import { take } from "rxjs";
 *
 * toObservable(pipeline("p").from(iterable([1, 2, 3])).via(map((n) => n * 2)))
 *   .pipe(take(2))
 *   .subscribe((n) => console.log(n)); // 2, 4 — then the run stops
 * ```
 */
export function toObservable<A>(p: Pipeline<A>, options: ToObservableOptions = {}): Observable<A> {
  return new Observable<A>((subscriber) => {
    const stop = new AbortController();
    const outer = options.signal;
    const onOuterAbort = () => stop.abort(outer?.reason);
    if (outer?.aborted) stop.abort(outer.reason);
    else outer?.addEventListener("abort", onOuterAbort, { once: true });

    const sink: Sink<A> = {
      [SinkTypeId]: true,
      name: "toObservable()",
      delivery: "at-least-once",
      async open() {
        return {
          target: "observable",
          write(chunk) {
            const records = chunk.records;
            for (let i = 0; i < records.length && !subscriber.closed; i++) subscriber.next(records[i]);
          },
          commit: (id) => id,
          async close() {},
        };
      },
    };
    runPipeline(p.to(sink) as Pipeline<unknown>, { ...options, signal: stop.signal }).then(
      (summary) => {
        outer?.removeEventListener("abort", onOuterAbort);
        options.onSummary?.(summary);
        if (summary.error) subscriber.error(summary.error);
        else subscriber.complete();
      },
      (e: unknown) => subscriber.error(e),
    );
    return () => stop.abort();
  });
}
