/**
 * @module enrichment peer: RxJS 7 as its docs show — `from()` over csv-parse's
 * async iteration, `mergeMap` with a concurrency of 32 over a cached,
 * single-flight lookup that uses the `retry` operator with an exponential
 * delay, failures caught per event, `reduce` into the totals. `from()` does
 * not wait for `mergeMap`: the whole input queues in its buffer, which it
 * consumes with `Array#shift`, so this peer slows down as the input grows.
 */
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import { catchError, defer, from, lastValueFrom, map, mergeMap, of, reduce, retry, tap, timer } from "rxjs";
import type { BenchContext, Outcome } from "../../src/bench/scenario.ts";
import {
  ATTEMPTS,
  BACKOFF_MS,
  CONCURRENCY,
  EventSchema,
  type EventsData,
  type Profile,
  SlowService,
  TierTotals,
  tierDigest,
} from "../../src/bench/scenarios/enrichment-service.ts";

export default async function enrichRxjs(d: EventsData, ctx: BenchContext): Promise<Outcome> {
  const service = new SlowService();
  const cache = new Map<string, Profile>();
  const pending = new Map<string, Promise<Profile>>();
  const fetchProfile = (user: string): Promise<Profile> => {
    let p = pending.get(user);
    if (!p) {
      p = lastValueFrom(
        defer(() => service.lookup(user)).pipe(
          retry({ count: ATTEMPTS - 1, delay: (_e, i) => timer(BACKOFF_MS * 2 ** (i - 1)) }),
        ),
      );
      pending.set(user, p);
      p.then(
        (v) => cache.set(user, v),
        () => {},
      ).finally(() => pending.delete(user));
    }
    return p;
  };
  let rowsIn = 0;
  let dead = 0;
  const parser = createReadStream(d.file, { highWaterMark: 64 * 1024 }).pipe(parse({ columns: true }));
  const totals = await lastValueFrom(
    from(parser as AsyncIterable<Record<string, string>>).pipe(
      tap(() => {
        if ((++rowsIn & 1023) === 0) ctx.progress(rowsIn);
      }),
      map((rec) => EventSchema.parse(rec)),
      mergeMap((e) => {
        const hit = cache.get(e.user);
        if (hit) return of(hit);
        return from(fetchProfile(e.user)).pipe(
          catchError(() => {
            dead++;
            return of(null);
          }),
        );
      }, CONCURRENCY),
      reduce((t, p) => {
        if (p) t.add(p);
        return t;
      }, new TierTotals()),
    ),
  );
  return { rowsIn, rowsOut: totals.size, deadLettered: dead, digest: tierDigest(totals.rows()) };
}
