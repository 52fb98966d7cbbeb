import { describe, expect, it } from "vitest";
import { map, rateLimit } from "../../src/operators/index.ts";
import { drive, harness, open, processChunk } from "./stage-harness.ts";

describe("rateLimit", () => {
  it("feeds a stage at perSecond with at most burst at once (virtual time)", async () => {
    const h = harness();
    const at: number[] = [];
    const st = await open(
      h,
      rateLimit(
        { perSecond: 100, burst: 10 },
        map((n: number) => {
          at.push(h.clock.now());
          return n;
        }),
      ),
    );
    const t0 = h.clock.now();
    const input = Array.from({ length: 1000 }, (_, i) => i);
    const out: number[] = [];
    for (let c = 0; c < 10; c++) {
      out.push(...(await drive(h.clock, processChunk(st, input.slice(c * 100, c * 100 + 100)), 5)));
    }
    expect(out).toEqual(input);
    const elapsed = at.at(-1)! - t0;
    // 10 records up front, then 990 at 100/s: 9.9 s; the 5 ms driving step adds at most one step per wait.
    expect(elapsed).toBeGreaterThanOrEqual(9_900);
    expect(elapsed).toBeLessThanOrEqual(9_900 * 1.02);
    // No 1-second window ever saw more than rate × 1 s + burst records.
    for (let i = 0, j = 0; i < at.length; i++) {
      while (at[i] - at[j] >= 1000) j++;
      expect(i - j + 1).toBeLessThanOrEqual(110);
    }
    await st.close?.();
    const limited = h.eventsOf("rate.limited");
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.length).toBeLessThanOrEqual(12); // one per 1 s interval, not one per wait
    expect(limited.reduce((a, e) => a + e.records, 0)).toBeGreaterThanOrEqual(990);
    expect(limited.reduce((a, e) => a + e.waitMs, 0)).toBeGreaterThanOrEqual(9_900);
  });

  it("throttles the flow on its own and passes records unchanged", async () => {
    const h = harness();
    const st = await open(h, rateLimit<string>({ perSecond: 2, burst: 1 }));
    const t0 = h.clock.now();
    expect(await drive(h.clock, processChunk(st, ["a", "b", "c", "d", "e"]), 10)).toEqual([
      "a",
      "b",
      "c",
      "d",
      "e",
    ]);
    expect(h.clock.now() - t0).toBeGreaterThanOrEqual(2_000);
    expect(h.clock.now() - t0).toBeLessThanOrEqual(2_050);
  });

  it("lets a burst through without waiting", async () => {
    const h = harness();
    const st = await open(h, rateLimit<number>({ perSecond: 1, burst: 50 }));
    const r = processChunk(
      st,
      Array.from({ length: 50 }, (_, i) => i),
    );
    expect(r).not.toBeInstanceOf(Promise);
    await st.close?.();
    expect(h.eventsOf("rate.limited")).toHaveLength(0);
  });
});
