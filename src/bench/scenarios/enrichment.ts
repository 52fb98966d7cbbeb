/**
 * @module Built-in scenario `enrichment`: events enriched by a simulated slow
 * service (2 ms a call, injected transient and permanent failures) through
 * `cache` (per user) around `retry` (3 attempts) around `mapAsync` (32
 * calls in flight), then totals per tier. Peers: plain async iterators, RxJS
 * `mergeMap`, Effect `Stream.mapEffect`, each with a cache, the same retry
 * policy and concurrency.
 */
import { aggregate } from "../../operators/aggregate.ts";
import { cache } from "../../operators/cache.ts";
import { mapAsync } from "../../operators/map-async.ts";
import { retry } from "../../operators/retry.ts";
import { pipeline } from "../../pipeline/pipeline.ts";
import { fs, paths } from "../../runtime/fs.ts";
import { ndjson } from "../../sinks/ndjson.ts";
import { csv } from "../../sources/csv.ts";
import { scenario } from "../scenario.ts";
import {
  ATTEMPTS,
  BACKOFF_MS,
  CONCURRENCY,
  checkEvents,
  EventSchema,
  type EventsData,
  generateEvents,
  type Profile,
  SlowService,
  tierDigest,
  type UserEvent,
} from "./enrichment-service.ts";
import { repoPeer } from "./repo-peer.ts";

export default scenario<EventsData>({
  name: "enrichment",
  description: "events → cache(retry(mapAsync(slow service, 2 ms, failures injected))) → totals per tier",
  sizes: { tiny: 2_000, small: 50_000, full: 200_000 },
  generate: generateEvents,
  pipeline(d, ctx) {
    const service = new SlowService();
    return pipeline("bench-enrichment")
      .from(csv(d.file, { schema: EventSchema, bufferSize: "64KiB" }))
      .via(
        cache(
          { key: (e: UserEvent) => e.user, maxEntries: 1_000_000 },
          retry(
            { attempts: ATTEMPTS, backoff: "exponential", base: BACKOFF_MS, jitter: 0 },
            mapAsync((e: UserEvent) => service.lookup(e.user), { concurrency: CONCURRENCY }),
          ),
        ),
        aggregate({ key: (p: Profile) => p.tier, aggregate: { n: "count", score: ["sum", "score"] } }),
      )
      .to(ndjson(paths.join(ctx.outDir, "tiers.ndjson")));
  },
  measure: {
    async outcome(summary, _d, ctx) {
      const text = await fs.readText(paths.join(ctx.outDir, "tiers.ndjson"));
      const rows = text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { key: string; n: number; score: number });
      return {
        rowsIn: summary.rowsIn,
        rowsOut: rows.length,
        deadLettered: summary.deadLettered,
        digest: tierDigest(rows),
      };
    },
    check: checkEvents,
  },
  peers: {
    "async-iterators": repoPeer("enrich-async-iterators.ts"),
    rxjs: repoPeer("enrich-rxjs.ts"),
    effect: repoPeer("enrich-effect.ts"),
  },
});
