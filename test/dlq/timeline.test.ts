/**
 * Dead letters over time (issue 20): the letters' time range cut in equal
 * buckets (`dlq/timeline.ts`), each (stage, reason) group's letters per bucket
 * (`series`) and its first sample inputs (`dlq/queue.ts`).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { groupLetters, groupsOverTime, type QueueLetter, SAMPLES } from "../../src/dlq/queue.ts";
import { bucketOf, DEFAULT_BUCKETS, MAX_BUCKETS, seriesOf, timelineOf } from "../../src/dlq/timeline.ts";
import type { EventOf } from "../../src/events/schema.ts";

const letter = (index: number, ts: number, reason: string, stage = "source"): QueueLetter => {
  const event: EventOf<"dead.letter"> = {
    kind: "dead.letter",
    ts,
    runId: "r1",
    pipeline: "p",
    stage,
    reason,
    attempts: 1,
    position: { line: index + 2 },
    raw: `${index},row`,
  };
  return { index, status: "dead", event, original: event, redrives: 0 };
};

describe("timeline of dead letters", () => {
  it("spans the earliest to just after the latest time in equal buckets", () => {
    expect(timelineOf([1500, 1000, 1999], 10)).toEqual({ from: 1000, to: 2000, bucketMs: 100, buckets: 10 });
    // One instant: the first of buckets 1 ms wide.
    const one = timelineOf([5000, 5000], 4);
    expect(one).toEqual({ from: 5000, to: 5004, bucketMs: 1, buckets: 4 });
    expect(seriesOf(one!, [5000, 5000])).toEqual([2, 0, 0, 0]);
    // A span that does not divide: buckets round up, the latest time is still inside.
    const tl = timelineOf([0, 1000], 3)!;
    expect(tl).toEqual({ from: 0, to: 1002, bucketMs: 334, buckets: 3 });
    expect(seriesOf(tl, [0, 333, 334, 667, 668, 1000])).toEqual([2, 2, 2]);
  });

  it("ignores times that are not numbers, has no timeline without any, refuses bad bucket counts", () => {
    expect(timelineOf([], 10)).toBeUndefined();
    expect(timelineOf([Number.NaN, Number.POSITIVE_INFINITY], 10)).toBeUndefined();
    const tl = timelineOf([Number.NaN, 10, 20], 2)!;
    expect(tl.from).toBe(10);
    expect(bucketOf(tl, Number.NaN)).toBe(-1);
    expect(bucketOf(tl, 9)).toBe(-1);
    expect(bucketOf(tl, tl.to)).toBe(-1);
    expect(timelineOf([1])!.buckets).toBe(DEFAULT_BUCKETS);
    for (const bad of [0, -1, 1.5, MAX_BUCKETS + 1, Number.NaN])
      expect(() => timelineOf([1], bad)).toThrow(RangeError);
  });

  it("puts every time in the bucket that covers it, with no bucket wider than needed", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1_700_000_000_000, max: 1_700_100_000_000 }), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.integer({ min: 1, max: MAX_BUCKETS }),
        (times, buckets) => {
          const tl = timelineOf(times, buckets)!;
          const span = Math.max(...times) - Math.min(...times) + 1;
          expect(tl.to - tl.from).toBe(buckets * tl.bucketMs);
          expect(tl.bucketMs * buckets).toBeGreaterThanOrEqual(span);
          if (tl.bucketMs > 1) expect((tl.bucketMs - 1) * buckets).toBeLessThan(span);
          for (const t of times) {
            const i = bucketOf(tl, t);
            expect(tl.from + i * tl.bucketMs).toBeLessThanOrEqual(t);
            expect(t).toBeLessThan(tl.from + (i + 1) * tl.bucketMs);
          }
          expect(seriesOf(tl, times).reduce((a, b) => a + b, 0)).toBe(times.length);
        },
      ),
    );
  });
});

describe("groups over time", () => {
  const letters = [
    letter(0, 10_000, "schema: amount 1 is bad"),
    letter(1, 10_500, "2:map threw: boom", "2:map"),
    letter(2, 12_000, "schema: amount 2 is bad"),
    letter(3, 12_100, "schema: amount 3 is bad"),
    letter(4, 19_999, "schema: amount 4 is bad"),
  ];

  it("gives each group its letters per bucket of the letters' time range, and its first samples", () => {
    const over = groupsOverTime(letters, 5);
    expect(over).toMatchObject({ from: 10_000, to: 20_000, bucketMs: 2000 });
    expect(over.groups.map((g) => [g.stage, g.reason, g.count, g.series])).toEqual([
      ["source", "schema: amount <n> is bad", 4, [1, 2, 0, 0, 1]],
      ["2:map", "2:map threw: boom", 1, [1, 0, 0, 0, 0]],
    ]);
    expect(over.groups[0].sample).toBe("0,row");
    expect(over.groups[0].samples).toEqual(["0,row", "2,row", "3,row"].slice(0, SAMPLES));
    expect(over.groups[1].samples).toEqual(["1,row"]);
  });

  it("has no series without a timeline, and no range without letters", () => {
    const plain = groupLetters(letters);
    expect(plain[0]).not.toHaveProperty("series");
    expect(plain[0].count).toBe(4);
    expect(groupsOverTime([], 30)).toEqual({ from: null, to: null, bucketMs: null, groups: [] });
  });

  it("counts every letter of every group once, by the time it failed", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3_600_000 }), fc.constantFrom("a 1", "a 2", "b", "c")), {
          maxLength: 80,
        }),
        fc.integer({ min: 1, max: 50 }),
        (rows, buckets) => {
          const over = groupsOverTime(
            rows.map(([ts, reason], i) => letter(i, ts, reason)),
            buckets,
          );
          for (const g of over.groups) {
            expect(g.series).toHaveLength(buckets);
            expect(g.series!.reduce((a, b) => a + b, 0)).toBe(g.count);
            expect(g.samples.length).toBe(Math.min(SAMPLES, g.count));
          }
          expect(over.groups.reduce((a, g) => a + g.count, 0)).toBe(rows.length);
        },
      ),
    );
  });
});
