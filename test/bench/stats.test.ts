/** The runner's statistics on fixed inputs: medians with min/max, percentiles, paired ratios, regression verdicts. */
import { describe, expect, it } from "vitest";
import { compareWithBaseline } from "../../src/bench/results.ts";
import type { ResultSummary } from "../../src/bench/runner.ts";
import { checkRegression, median, pairedRatios, percentile, rate, spread } from "../../src/bench/stats.ts";

describe("median and spread", () => {
  it("takes the middle value, or the mean of the two middle values", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it("gives median, min, max and count of the finite values", () => {
    expect(spread([10, 30, 20, Number.NaN, Number.POSITIVE_INFINITY])).toEqual({
      median: 20,
      min: 10,
      max: 30,
      n: 3,
    });
    expect(spread([Number.NaN])).toBeUndefined();
    expect(spread([])).toBeUndefined();
  });

  it("does not reorder its input", () => {
    const xs = [3, 1, 2];
    median(xs);
    spread(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe("percentile (nearest rank)", () => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1
  it("p50, p99, p100 and p0 of 1..100", () => {
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile(xs, 0)).toBe(1);
  });
  it("small samples round up to the next rank", () => {
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 51)).toBe(3);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("paired ratios", () => {
  it("divides run i by run i, then summarises", () => {
    // Peer rows/s against sluice rows/s in three rounds: ratios 0.5, 0.4, 0.6.
    expect(pairedRatios([50, 40, 60], [100, 100, 100])).toEqual({ median: 0.5, min: 0.4, max: 0.6, n: 3 });
  });
  it("pairs are not the ratio of medians", () => {
    // Drift: both sides slow down together in round 2; each pair sees 2×.
    expect(pairedRatios([200, 20, 180], [100, 10, 90])).toEqual({ median: 2, min: 2, max: 2, n: 3 });
  });
  it("skips pairs with a missing side or a zero denominator, and extra runs on one side", () => {
    expect(pairedRatios([1, Number.NaN, 3, 8], [2, 2, 0])).toEqual({ median: 0.5, min: 0.5, max: 0.5, n: 1 });
    expect(pairedRatios([], [])).toBeUndefined();
  });
});

describe("regression verdict", () => {
  it("throughput: lower than the baseline beyond the tolerance regresses", () => {
    expect(checkRegression("rows_per_s", 80, 100, "higher", 0.15)).toMatchObject({
      change: -0.2,
      regressed: true,
    });
    expect(checkRegression("rows_per_s", 90, 100, "higher", 0.15)).toMatchObject({
      change: -0.1,
      regressed: false,
    });
    expect(checkRegression("rows_per_s", 150, 100, "higher", 0.15).regressed).toBe(false);
  });
  it("memory and latency: higher than the baseline beyond the tolerance regresses", () => {
    expect(checkRegression("peak_rss_mb", 125, 100, "lower", 0.2)).toMatchObject({
      change: 0.25,
      regressed: true,
    });
    expect(checkRegression("peak_rss_mb", 119, 100, "lower", 0.2).regressed).toBe(false);
    expect(checkRegression("p99_ms", 50, 100, "lower", 0).regressed).toBe(false);
  });
  it("exactly at the tolerance is not a regression", () => {
    expect(checkRegression("rows_per_s", 75, 100, "higher", 0.25).regressed).toBe(false);
  });
  it("a zero baseline compares absolutely", () => {
    expect(checkRegression("p99_ms", 0.5, 0, "lower", 0.25)).toMatchObject({ change: 0.5, regressed: true });
  });
  it("rejects a negative tolerance", () => {
    expect(() => checkRegression("x", 1, 1, "higher", -1)).toThrow(RangeError);
  });
  it("rate is rows per second of wall time", () => {
    expect(rate(5000, 2000)).toBe(2500);
    expect(rate(1, 0)).toBeNaN();
  });
});

describe("comparison with a stored baseline", () => {
  const result = (impl: string, rowsPerS: number, rss: number): ResultSummary => ({
    scenario: "csv-etl",
    implementation: impl,
    runtime: "node",
    runtimeVersion: "20.0.0",
    status: "ok",
    rows: 1000,
    runs: 3,
    rowsPerS: { median: rowsPerS, min: rowsPerS, max: rowsPerS, n: 3 },
    p99Ms: { median: 10, min: 10, max: 10, n: 3 },
    peakRssMb: { median: rss, min: rss, max: rss, n: 3 },
    metrics: {},
    timeline: [],
    measurements: [],
  });
  const baseline = { samples: 5, metrics: { rows_per_s: 1000, p99_ms: 10, peak_rss_mb: 100 } };

  it("flags sluice when a figure is worse than the median beyond its tolerance", () => {
    const c = compareWithBaseline(result("sluice", 800, 100), baseline)!;
    expect(c.regressed).toBe(true);
    expect(c.checks.find((x) => x.metric === "rows_per_s")).toMatchObject({ regressed: true, change: -0.2 });
    expect(c.checks.find((x) => x.metric === "peak_rss_mb")?.regressed).toBe(false);
  });

  it("within tolerance is no regression", () => {
    expect(compareWithBaseline(result("sluice", 900, 110), baseline)?.regressed).toBe(false);
  });

  it("a custom tolerance applies", () => {
    const tol = { rows_per_s: 0.05, p99_ms: 0.05, peak_rss_mb: 0.05 };
    expect(compareWithBaseline(result("sluice", 900, 100), baseline, { tolerances: tol })?.regressed).toBe(
      true,
    );
  });

  it("peers are compared but never flagged", () => {
    const c = compareWithBaseline(result("papaparse", 100, 500), baseline)!;
    expect(c.checks.some((x) => x.regressed)).toBe(true);
    expect(c.regressed).toBe(false);
  });

  it("a figure with too few earlier results is not compared", () => {
    const c = compareWithBaseline(result("sluice", 800, 100), {
      ...baseline,
      counts: { rows_per_s: 5, p99_ms: 1, peak_rss_mb: 1 },
    })!;
    expect(c.checks.map((x) => x.metric)).toEqual(["rows_per_s"]);
    expect(c.regressed).toBe(true);
  });

  it("too few earlier results: no verdict", () => {
    const c = compareWithBaseline(result("sluice", 1, 1), { ...baseline, samples: 2 })!;
    expect(c).toMatchObject({ regressed: false, checks: [], samples: 2 });
    expect(c.note).toMatch(/3 needed/);
    expect(compareWithBaseline(result("sluice", 1, 1), undefined)?.samples).toBe(0);
  });
});
