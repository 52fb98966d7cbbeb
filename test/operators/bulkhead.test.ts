import { describe, expect, it } from "vitest";
import { BulkheadFullError, bulkhead, fallback, map, mapAsync } from "../../src/operators/index.ts";
import { drive, harness, open, processChunk } from "./stage-harness.ts";

describe("bulkhead", () => {
  it("bounds calls of the user function, not chunks: mapAsync's own concurrency cannot exceed it", async () => {
    const h = harness();
    let running = 0;
    let most = 0;
    const guarded = bulkhead(
      { concurrency: 3 },
      mapAsync(
        async (n: number) => {
          running++;
          most = Math.max(most, running);
          await h.clock.sleep(10);
          running--;
          return n * 2;
        },
        { concurrency: 20 },
      ),
    );
    const stage = await open(h, guarded);
    const input = Array.from({ length: 50 }, (_, i) => i);
    const out = await drive(h.clock, processChunk(stage, input), 10);
    expect(out).toEqual(input.map((n) => n * 2));
    expect(most).toBe(3);
    expect(h.dead).toHaveLength(0);
  });

  it("shares `concurrency` calls across every stage of the value, lets `queue` chunks wait and sheds the rest", async () => {
    const h = harness();
    let running = 0;
    let most = 0;
    const shared = bulkhead(
      { concurrency: 2, queue: 1 },
      map(async (n: number) => {
        running++;
        most = Math.max(most, running);
        await h.clock.sleep(100);
        running--;
        return n;
      }),
    );
    // Four pipelines (stages) using the same bulkhead value call it at once:
    // the first chunk's two records take both slots, the second chunk waits
    // (queue 1), the third and fourth are shed.
    const stages = await Promise.all([1, 2, 3, 4].map(() => open(h, shared)));
    const calls = stages.map((st, i) => processChunk(st, [i * 10, i * 10 + 1]));
    const results = await drive(h.clock, Promise.all(calls), 10);
    expect(results).toEqual([[0, 1], [10, 11], [], []]);
    expect(most).toBe(2);
    const shed = h.eventsOf("bulkhead.shed");
    expect(shed).toHaveLength(2);
    expect(shed[0]).toMatchObject({ records: 2, queued: 1 });
    expect(h.dead.map((d) => d.record)).toEqual([20, 21, 30, 31]);
    expect(h.dead[0].error).toBeInstanceOf(BulkheadFullError);
  });

  it("never sheds the later records of a chunk that has started", async () => {
    const h = harness();
    const one = bulkhead(
      { concurrency: 1 },
      map(async (n: number) => {
        await h.clock.sleep(5);
        return n + 1;
      }),
    );
    const stage = await open(h, one);
    const out = await drive(h.clock, processChunk(stage, [1, 2, 3, 4]), 5);
    expect(out).toEqual([2, 3, 4, 5]);
    expect(h.eventsOf("bulkhead.shed")).toHaveLength(0);
  });

  it("gives shed records to an enclosing fallback", async () => {
    const h = harness();
    const shared = bulkhead(
      { concurrency: 1 },
      map(async (n: number) => {
        await h.clock.sleep(10);
        return n;
      }),
    );
    const guarded = fallback((n: number) => -n, shared);
    const a = await open(h, guarded);
    const b = await open(h, guarded);
    const results = await drive(h.clock, Promise.all([processChunk(a, [1]), processChunk(b, [2])]), 5);
    expect(results).toEqual([[1], [-2]]);
    expect(h.dead).toHaveLength(0);
  });
});
