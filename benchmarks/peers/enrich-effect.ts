/**
 * @module enrichment peer: Effect Stream as its docs show —
 * `Stream.fromAsyncIterable` over csv-parse, `Stream.mapEffect` with a
 * concurrency of 32, unordered (the totals do not depend on order; ordered,
 * one slow lookup holds the window and it runs ~6x slower), over a cached,
 * single-flight lookup retried with
 * `Effect.retry` and an exponential `Schedule`, failures turned into values
 * with `Effect.orElseSucceed`, `Stream.runFold` into the totals.
 */
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import { Effect, Schedule, Stream } from "effect";
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

export default async function enrichEffect(d: EventsData, ctx: BenchContext): Promise<Outcome> {
  const service = new SlowService();
  const cache = new Map<string, Profile>();
  const pending = new Map<string, Promise<Profile>>();
  const fetchProfile = (user: string): Promise<Profile> => {
    let p = pending.get(user);
    if (!p) {
      p = Effect.runPromise(
        Effect.tryPromise(() => service.lookup(user)).pipe(
          Effect.retry({ times: ATTEMPTS - 1, schedule: Schedule.exponential(BACKOFF_MS) }),
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
  const lookup = (user: string): Effect.Effect<Profile | null> => {
    const hit = cache.get(user);
    if (hit) return Effect.succeed(hit);
    return Effect.tryPromise(() => fetchProfile(user)).pipe(Effect.orElseSucceed(() => null));
  };
  let rowsIn = 0;
  let dead = 0;
  const parser = createReadStream(d.file, { highWaterMark: 64 * 1024 }).pipe(parse({ columns: true }));
  const program = Stream.fromAsyncIterable(parser as AsyncIterable<Record<string, string>>, (e) => e).pipe(
    Stream.map((rec) => {
      if ((++rowsIn & 1023) === 0) ctx.progress(rowsIn);
      return EventSchema.parse(rec);
    }),
    Stream.mapEffect((e) => lookup(e.user), { concurrency: CONCURRENCY, unordered: true }),
    Stream.runFold(
      () => new TierTotals(),
      (t, p) => {
        if (p) t.add(p);
        else dead++;
        return t;
      },
    ),
  );
  const totals = await Effect.runPromise(program);
  return { rowsIn, rowsOut: totals.size, deadLettered: dead, digest: tierDigest(totals.rows()) };
}
