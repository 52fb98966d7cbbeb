/**
 * @module Generated metrics events for the metrics benchmarks
 * (`metrics.bench.ts`, `metrics-floor.bench.ts`): `stage.progress` and
 * `resource.sample` events as a run publishes them, made on the fly (not
 * held in memory), as a bus delivers them.
 */
import type { EventOf } from "../../src/events/schema.ts";
import { Histogram } from "../../src/metrics/histogram.ts";

/** The stages of the generated runs, in order. */
export const STAGES = ["source", "1:parse", "2:map", "3:filter", "sink"];
/** The first run's start. */
export const T0 = Date.UTC(2026, 0, 1);

/** Realistic chunk-latency histograms (about 16 non-empty buckets), reused across events. */
export const HISTS = Array.from({ length: 64 }, (_, k) => {
  const h = new Histogram();
  let x = 1 + k * 7919;
  for (let i = 0; i < 200; i++) {
    x = (x * 48271) % 2147483647;
    h.record(0.05 * 1.3 ** ((x % 1000) / 80));
  }
  return h.toData();
});

/** `runs` runs one after another, one stage.progress per stage per second. */
export function* stageEvents(total: number, runs: number): Generator<EventOf<"stage.progress">> {
  const perRun = Math.ceil(total / runs);
  let n = 0;
  for (let r = 0; r < runs && n < total; r++) {
    const runId = `run-${String(r).padStart(4, "0")}`;
    for (let i = 0; i < perRun && n < total; i++, n++) {
      const s = i % STAGES.length;
      yield {
        kind: "stage.progress",
        ts: T0 + r * 86_400_000 + Math.floor(i / STAGES.length) * 1000 + 1000,
        runId,
        pipeline: "bench",
        stage: STAGES[s],
        index: s,
        chunks: 10,
        rowsIn: 10_000,
        rowsOut: 9_900,
        filtered: 100,
        deadLettered: 0,
        errors: i % 97 === 0 ? 1 : 0,
        bytes: 1_000_000,
        busyMs: 100 + s * 50,
        intervalMs: 1000,
        latency: HISTS[(i * 31 + s) % HISTS.length],
      };
    }
  }
}

/** The `i`-th resource sample of a generated stream, of the run that `perRun` events per run put it in. */
export function resourceSample(i: number, ts: number, perRun: number): EventOf<"resource.sample"> {
  return {
    kind: "resource.sample",
    ts,
    runId: `run-${String(Math.floor(i / perRun)).padStart(4, "0")}`,
    pipeline: "bench",
    rssBytes: 1e8 + i,
    heapUsedBytes: 5e7,
    cpuPercent: 90,
    eventLoopDelayMs: 2,
  };
}

/** `runs` runs one after another, one resource.sample every 10 ms. */
export function* resourceEvents(total: number, runs: number): Generator<EventOf<"resource.sample">> {
  const perRun = Math.ceil(total / runs);
  for (let i = 0; i < total; i++) yield resourceSample(i, T0 + i * 10, perRun);
}

/**
 * `runs` runs one after another of dead letters as a CSV source reports bad
 * rows: one file, one reason and error per run of bad rows, the raw line and
 * the parsed record each their own.
 */
export function* deadLetterEvents(total: number, runs: number): Generator<EventOf<"dead.letter">> {
  const perRun = Math.ceil(total / runs);
  for (let i = 0; i < total; i++) {
    yield {
      kind: "dead.letter",
      ts: T0 + i,
      runId: `run-${String(Math.floor(i / perRun)).padStart(4, "0")}`,
      pipeline: "bench",
      stage: "source",
      reason: "schema",
      error: (i >> 6) % 2 ? "amount: Expected number, received nan" : "id: Expected integer, received string",
      attempts: 1,
      position: { file: "data/orders.csv", line: i + 2, byteOffset: i * 60, chunk: i >> 10, index: i & 1023 },
      raw: `${i},u${i % 97},books,not-a-number,2026-01-01T00:00:00Z,note`,
      record: { id: String(i), user: `u${i % 97}`, amount: "not-a-number" },
    };
  }
}
