import { describe, expect, it } from "vitest";
import { CircuitOpenError, circuitBreaker, map } from "../../src/operators/index.ts";
import { harness, open, processChunk } from "./stage-harness.ts";

/** A service whose health the test scripts; it records the records it saw. */
function service() {
  const s = { healthy: true, seen: [] as number[] };
  const op = map((n: number) => {
    s.seen.push(n);
    if (!s.healthy) throw new Error(`service down (${n})`);
    return n * 2;
  });
  return { s, op };
}

const options = {
  failureRate: 0.5,
  window: "10s",
  minCalls: 4,
  openFor: "5s",
  halfOpenCalls: 2,
  callSize: 1,
} as const;

describe("circuitBreaker", () => {
  it("opens at the failure rate, turns records away at once, and recovers through half-open", async () => {
    const h = harness();
    const { s, op } = service();
    const st = await open(h, circuitBreaker(options, op));

    s.healthy = false;
    expect(await processChunk(st, [1, 2, 3, 4, 5, 6, 7, 8])).toEqual([]);
    expect(s.seen).toEqual([1, 2, 3, 4]); // opened after 4 of 4 failed: 5..8 never reached the service
    expect(h.dead.map((d) => d.record)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(h.dead[4].error).toBeInstanceOf(CircuitOpenError);
    expect(h.dead[4].attempts).toBe(0);
    expect(h.dead[0].reason).toContain("service down (1)");

    await h.clock.advance(4_999);
    await processChunk(st, [9]);
    expect(s.seen).toEqual([1, 2, 3, 4]); // still open

    await h.clock.advance(1);
    s.healthy = true;
    expect(await processChunk(st, [10, 11, 12])).toEqual([20, 22, 24]);
    expect(s.seen).toEqual([1, 2, 3, 4, 10, 11, 12]);

    const transitions = h.eventsOf("circuit.state").map((e) => `${e.from}->${e.to}`);
    expect(transitions).toEqual(["closed->open", "open->half-open", "half-open->closed"]);
    expect(h.eventsOf("circuit.state")[0].failureRate).toBe(1);
  });

  it("re-opens when a trial call fails", async () => {
    const h = harness();
    const { s, op } = service();
    const st = await open(h, circuitBreaker(options, op));
    s.healthy = false;
    await processChunk(st, [1, 2, 3, 4]);
    await h.clock.advance(5_000);
    await processChunk(st, [5, 6, 7]);
    expect(s.seen).toEqual([1, 2, 3, 4, 5, 6]); // one trial call of halfOpenCalls records failed: 7 turned away
    expect(h.dead.at(-1)).toMatchObject({ record: 7, attempts: 0 });
    await h.clock.advance(5_000);
    s.healthy = true;
    await processChunk(st, [8, 9]);
    expect(h.eventsOf("circuit.state").map((e) => `${e.from}->${e.to}`)).toEqual([
      "closed->open",
      "open->half-open",
      "half-open->open",
      "open->half-open",
      "half-open->closed",
    ]);
  });

  it("stays closed below the failure rate or below minCalls, and forgets failures outside the window", async () => {
    const h = harness();
    const { s, op } = service();
    const st = await open(h, circuitBreaker(options, op));
    // 1 failure in 4 calls: 25% < 50%.
    s.healthy = false;
    await processChunk(st, [1]);
    s.healthy = true;
    await processChunk(st, [2, 3, 4]);
    // 11 s later the first four calls have left the 10 s window.
    await h.clock.advance(11_000);
    s.healthy = false;
    await processChunk(st, [5, 6, 7]);
    expect(h.eventsOf("circuit.state")).toHaveLength(0); // 3 calls in the window < minCalls 4
    await processChunk(st, [8]);
    expect(h.eventsOf("circuit.state").map((e) => e.to)).toEqual(["open"]);
    expect(s.seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("gives the fallback value to records turned away and records that failed", async () => {
    const h = harness();
    const { s, op } = service();
    const st = await open(
      h,
      circuitBreaker(
        { ...options, fallback: (n: number, e: unknown) => (e instanceof CircuitOpenError ? -n : 0) },
        op,
      ),
    );
    s.healthy = false;
    expect(await processChunk(st, [1, 2, 3, 4, 5, 6])).toEqual([0, 0, 0, 0, -5, -6]);
    expect(h.dead).toHaveLength(0);
  });

  it("judges a chunk in calls of callSize records", async () => {
    const h = harness();
    const { s, op } = service();
    const st = await open(h, circuitBreaker({ ...options, callSize: 3 }, op));
    s.healthy = false;
    await processChunk(
      st,
      Array.from({ length: 10 }, (_, i) => i),
    );
    expect(s.seen).toEqual([0, 1, 2, 3, 4, 5]); // judged after 3 (< minCalls) and after 6
  });
});
