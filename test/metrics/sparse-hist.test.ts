/**
 * `SparseHist` keeps its pairs in a typed array compacted before it grows:
 * whatever the order and size of the adds, it must hold the same counts as a
 * dense histogram, and a copy must not share its pairs. `StageRollup.copy`
 * (a literal, not a spread) must carry every field of an accumulator.
 */
import { describe, expect, it } from "vitest";
import { BUCKET_BOUNDS_MS } from "../../src/metrics/histogram.ts";
import { StageRollup } from "../../src/metrics/internal/rollup.ts";
import { SparseHist } from "../../src/metrics/internal/sparse-hist.ts";
import { progress, rng, T0 } from "./fixtures.ts";

const N = BUCKET_BOUNDS_MS.length;

function dense(h: SparseHist): number[] {
  const out = new Array<number>(N).fill(0);
  const p = h.pairs;
  for (let k = 0; k < p.length; k += 2) out[p[k]] += p[k + 1];
  return out;
}

describe("SparseHist", () => {
  it("holds the counts of a dense histogram across compactions and growth", () => {
    const r = rng(7);
    for (let trial = 0; trial < 40; trial++) {
      const h = new SparseHist();
      const want = new Array<number>(N).fill(0);
      let count = 0;
      const adds = 1 + Math.floor(r() * 300);
      for (let a = 0; a < adds; a++) {
        // Unsorted, repeated buckets, sometimes none, sometimes many.
        const n = a % 11 === 0 ? 0 : Math.floor(r() * (trial % 2 ? 120 : 12));
        const buckets: Array<[number, number]> = [];
        for (let k = 0; k < n; k++) {
          const i = Math.floor(r() * N);
          const c = 1 + Math.floor(r() * 5);
          buckets.push([i, c]);
          want[i] += c;
          count += c;
        }
        h.add(buckets, n === 0 ? 0 : buckets.reduce((s, b) => s + b[1], 0), n, n);
        if (a % 37 === 0) expect(dense(h)).toEqual(want);
      }
      expect(dense(h)).toEqual(want);
      expect(h.count).toBe(count);
      h.compact();
      const p = h.pairs;
      // Compacted: sorted, unique, no zero counts.
      for (let k = 2; k < p.length; k += 2) expect(p[k]).toBeGreaterThan(p[k - 2]);
      for (let k = 1; k < p.length; k += 2) expect(p[k]).toBeGreaterThan(0);
      expect(dense(h)).toEqual(want);
      const data = h.toData();
      expect(data.buckets.reduce((s, b) => s + b[1], 0)).toBe(count);
    }
  });

  it("drops an index that is no bucket, and trims without losing a count", () => {
    const h = new SparseHist();
    h.add(
      [
        [2, 1],
        [-1, 5],
        [1.5, 5],
        [N, 5],
        [2, 3],
      ],
      19,
      1,
      1,
    );
    h.compact();
    expect(Array.from(h.pairs)).toEqual([2, 4]);
    for (let k = 0; k < 50; k++) h.add([[k % N, 1]], 1, 1, 1);
    const before = dense(h);
    h.trim();
    expect(dense(h)).toEqual(before);
    h.add([[0, 7]], 7, 1, 1);
    expect(dense(h)[0]).toBe(before[0] + 7);
  });

  it("copies its pairs: adds to the original leave the copy as it was", () => {
    const h = new SparseHist();
    h.add(
      [
        [3, 1],
        [1, 2],
        [3, 4],
      ],
      7,
      10,
      5,
    );
    const c = h.copy();
    h.add([[1, 100]], 100, 1, 1);
    expect(Array.from(c.pairs)).toEqual([1, 2, 3, 5]);
    expect([c.count, c.sumMs, c.maxMs]).toEqual([7, 10, 5]);
    expect(dense(h)[1]).toBe(102);
  });
});

describe("StageRollup.copy", () => {
  it("carries every field of an accumulator, with its own histogram", () => {
    const acc = new StageRollup(5_000);
    acc.add(
      progress(
        { runId: "r", pipeline: "p" },
        { stage: "s", index: 2, ts: T0, samples: [1, 2, 30], queueDepth: 4 },
      ),
      Number.NEGATIVE_INFINITY,
    );
    const [a] = acc.takeTouched();
    (a as { cpuMs?: number }).cpuMs = 12;
    const c = StageRollup.copy(a);
    expect(Object.keys(c).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a) as Array<keyof typeof a>)
      if (k !== "hist") expect([k, c[k]]).toEqual([k, a[k]]);
    expect(c.hist).not.toBe(a.hist);
    expect(Array.from(c.hist.pairs)).toEqual(Array.from(a.hist.pairs));
  });
});
