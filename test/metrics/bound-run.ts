/**
 * Runs on node, bun and deno (see bound.test.ts): two pipelines on the real
 * clock, one whose mapAsync sleeps 2 ms a record (I/O-bound) and one whose
 * map spins 1 ms a record (CPU-bound); their events go through JSON (as a
 * journal would) into a metrics store in HOME, and the stage figures and
 * recommendations are printed as one JSON line.
 * Usage: bound-run.ts HOME
 */

import { EventBus } from "../../src/events/bus.ts";
import { parseEvent, pipeline, runPipeline, type SluiceEvent } from "../../src/index.ts";
import { openMetricsStore } from "../../src/metrics/store.ts";
import { map, mapAsync } from "../../src/operators/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";

const home = process.argv[2];
export const SLEEP = { records: 1000, chunk: 20, concurrency: 2, ms: 2 };
export const SPIN = { records: 800, chunk: 20, ms: 1 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const spin = (ms: number) => {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) x++;
  return x;
};

const events: SluiceEvent[] = [];
const bus = new EventBus();
bus.subscribe((e) => {
  events.push(parseEvent(JSON.parse(JSON.stringify(e))));
});
const ids = Array.from({ length: SLEEP.records }, (_, i) => i);
const sleeping = await runPipeline(
  pipeline("sleeping")
    .from(iterable(ids, { chunkSize: SLEEP.chunk }))
    .via(
      mapAsync(
        async (n: number) => {
          await sleep(SLEEP.ms);
          return n;
        },
        { concurrency: SLEEP.concurrency },
      ),
    )
    .to(collect()),
  { home, bus },
);
const spinning = await runPipeline(
  pipeline("spinning")
    .from(iterable(ids.slice(0, SPIN.records), { chunkSize: SPIN.chunk }))
    .via(map((n: number) => n + spin(SPIN.ms) * 0))
    .to(collect()),
  { home, bus },
);

const store = await openMetricsStore(home, { flushIntervalMs: 3_600_000 });
await store.ingest(events);
const figures = await store.query(
  `SELECT t.pipeline, t.stage, t.chunks, t.p50_ms, t.p99_ms, t.max_ms, t.busy_ms, t.cpu_ms, t.wait_ms, t.bound_by,
          r.duration_ms
   FROM stage_totals t JOIN runs r USING (run_id)
   WHERE t.stage IN ('1:mapAsync', '1:map') ORDER BY t.pipeline`,
);
const second = await store.query(
  "SELECT stage, sum(lat_count) AS chunks, max(p50_ms) AS p50_max FROM stage_metrics WHERE stage IN ('1:mapAsync', '1:map') GROUP BY stage ORDER BY stage",
);
const edges = await store.query(
  `SELECT DISTINCT stage, cpu_ms, wait_ms, bound_by FROM stage_totals WHERE stage IN ('source', 'sink') ORDER BY stage`,
);
const advice = async (runId: string) =>
  // A run this short on a shared machine spends a visible share of its wall time starting up:
  // the limiting stage is asked to be busy half of it (not 80%).
  ((await store.recommendations(runId, { cores: 8, limitingBusyShare: 0.5 })) ?? []).map((r) => ({
    id: r.id,
    stage: r.stage,
  }));
const out = {
  figures: figures.rows,
  perSecond: second.rows,
  edges: edges.rows,
  sleeping: await advice(sleeping.runId),
  spinning: await advice(spinning.runId),
};
await store.close();
console.log(JSON.stringify(out));
