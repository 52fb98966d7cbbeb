/**
 * The one fold of `stage.progress`: events add up and (in sliding windows)
 * come back out exactly; CPU time stays unknown until an event carries it
 * (journals written before `cpuMs` existed), and wait time is only derived
 * where it is known.
 */
import { describe, expect, it } from "vitest";
import {
  countProgress,
  emptyCounts,
  emptySums,
  foldProgress,
  mergeSums,
  waitMs,
} from "../../src/events/internal/progress-fold.ts";
import type { EventOf } from "../../src/events/schema.ts";
import { Histogram } from "../../src/metrics/histogram.ts";

const ev = (ts: number, busyMs: number, cpuMs?: number, queueDepth?: number): EventOf<"stage.progress"> => ({
  kind: "stage.progress",
  ts,
  runId: "r",
  pipeline: "p",
  stage: "1:mapAsync",
  index: 1,
  chunks: 2,
  rowsIn: 100,
  rowsOut: 90,
  filtered: 5,
  deadLettered: 5,
  errors: 1,
  bytes: 1000,
  busyMs,
  cpuMs,
  intervalMs: 1000,
  queueDepth,
  latency: {
    count: 2,
    sumMs: 30,
    maxMs: 20,
    buckets: [
      [40, 1],
      [45, 1],
    ],
  },
});

describe("progress fold", () => {
  it("an old event leaves CPU unknown; a newer one makes it known; wait = busy − CPU", () => {
    const c = emptyCounts();
    countProgress(c, ev(1, 800));
    expect(c.cpuMs).toBeUndefined();
    expect(waitMs(c)).toBeUndefined();
    countProgress(c, ev(2, 200, 50));
    expect(c).toMatchObject({ rowsIn: 200, chunks: 4, busyMs: 1000, cpuMs: 50 });
    expect(waitMs(c)).toBe(950);
  });

  it("adds and takes back events exactly, histogram included; merges spans", () => {
    const s = emptySums();
    const h = new Histogram();
    foldProgress(s, ev(10, 500, 100, 3), h);
    foldProgress(s, ev(20, 300, 300), h);
    expect(s).toMatchObject({
      events: 2,
      bytes: 2000,
      intervalMs: 2000,
      queueDepthMax: 3,
      firstTs: 10,
      lastTs: 20,
    });
    expect(h.count).toBe(4);
    foldProgress(s, ev(10, 500, 100, 3), h, -1);
    expect(s).toMatchObject({ events: 1, rowsIn: 100, busyMs: 300, cpuMs: 300, intervalMs: 1000 });
    expect(h.count).toBe(2);
    expect(h.sumMs).toBe(30);

    const other = emptySums();
    foldProgress(other, ev(30, 100));
    const into = emptySums();
    mergeSums(into, s);
    mergeSums(into, other);
    // The span without CPU time (and without a queue depth) does not erase what is known.
    expect(into).toMatchObject({
      events: 2,
      busyMs: 400,
      cpuMs: 300,
      queueDepthMax: 3,
      firstTs: 10,
      lastTs: 30,
    });
  });
});
