/**
 * @module enrichment peer: plain async iterators and promises — csv-parse's
 * async iteration, a bounded set of calls in flight (`Promise.race` when
 * full), an `lru-cache` of profiles with single-flight through a map of
 * pending promises, and a retry loop with exponential backoff.
 */
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import { LRUCache } from "lru-cache";
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withRetry<T>(f: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (e) {
      if (attempt >= ATTEMPTS) throw e;
      await sleep(BACKOFF_MS * 2 ** (attempt - 1));
    }
  }
}

export default async function enrichAsyncIterators(d: EventsData, ctx: BenchContext): Promise<Outcome> {
  const service = new SlowService();
  const cache = new LRUCache<string, Profile>({ max: 1_000_000 });
  const pending = new Map<string, Promise<Profile>>();
  const lookup = (user: string): Profile | Promise<Profile> => {
    const hit = cache.get(user);
    if (hit) return hit;
    let p = pending.get(user);
    if (!p) {
      p = withRetry(() => service.lookup(user));
      pending.set(user, p);
      p.then(
        (v) => cache.set(user, v),
        () => {},
      ).finally(() => pending.delete(user));
    }
    return p;
  };
  const totals = new TierTotals();
  let rowsIn = 0;
  let dead = 0;
  const running = new Set<Promise<void>>();
  const parser = createReadStream(d.file, { highWaterMark: 64 * 1024 }).pipe(parse({ columns: true }));
  for await (const rec of parser as AsyncIterable<Record<string, string>>) {
    rowsIn++;
    const e = EventSchema.parse(rec);
    const r = lookup(e.user);
    if (!(r instanceof Promise)) {
      totals.add(r);
      continue;
    }
    const task: Promise<void> = r.then(
      (p) => {
        totals.add(p);
      },
      () => {
        dead++;
      },
    );
    const tracked = task.finally(() => running.delete(tracked));
    running.add(tracked);
    if (running.size >= CONCURRENCY) await Promise.race(running);
    if ((rowsIn & 1023) === 0) ctx.progress(rowsIn);
  }
  await Promise.all(running);
  return { rowsIn, rowsOut: totals.size, deadLettered: dead, digest: tierDigest(totals.rows()) };
}
