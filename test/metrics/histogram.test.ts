import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUCKET_BOUNDS_MS, bucketIndex, Histogram } from "../../src/metrics/histogram.ts";

describe("Histogram", () => {
  it("puts each value in the first bucket whose bound is ≥ it", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.0011, max: 1e6, noNaN: true }), (ms) => {
        const i = bucketIndex(ms);
        expect(BUCKET_BOUNDS_MS[i]).toBeGreaterThanOrEqual(ms * (1 - 1e-9));
        if (i > 0) expect(BUCKET_BOUNDS_MS[i - 1]).toBeLessThan(ms * (1 + 1e-9));
      }),
    );
  });

  it("percentiles are within one bucket (×1.25) of the exact value", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 5000, noNaN: true }), { minLength: 1, maxLength: 500 }),
        (xs) => {
          const h = new Histogram();
          for (const x of xs) h.record(x);
          const sorted = [...xs].sort((a, b) => a - b);
          for (const p of [50, 95, 99]) {
            const exact = sorted[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)];
            const got = h.percentile(p);
            expect(got).toBeGreaterThanOrEqual(exact * (1 - 1e-9));
            expect(got).toBeLessThanOrEqual(exact * 1.25 + 1e-9);
          }
        },
      ),
    );
  });

  it("merges by addition and round-trips through its event form", () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 1; i <= 100; i++) (i % 2 ? a : b).record(i);
    const m = new Histogram();
    m.merge(a.toData());
    m.merge(b.toData());
    expect(m.count).toBe(100);
    expect(m.sumMs).toBe(5050);
    expect(m.maxMs).toBe(100);
    expect(m.percentile(100)).toBe(100);
  });
});
