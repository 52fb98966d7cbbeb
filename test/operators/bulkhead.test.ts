import { describe, expect, it } from "vitest";
import { BulkheadFullError, bulkhead, fallback, map } from "../../src/operators/index.ts";
import { drive, harness, open, processChunk } from "./stage-harness.ts";

describe("bulkhead", () => {
  it("runs `concurrency` calls, queues `queue` more and sheds the rest (shared by every stage of the value)", async () => {
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
    // Four pipelines (stages) using the same bulkhead value call it at once.
    const stages = await Promise.all([1, 2, 3, 4].map(() => open(h, shared)));
    const calls = stages.map((st, i) => processChunk(st, [i * 10, i * 10 + 1]));
    const results = await drive(h.clock, Promise.all(calls), 10);
    expect(results).toEqual([[0, 1], [10, 11], [20, 21], []]);
    expect(most).toBe(2);
    const shed = h.eventsOf("bulkhead.shed");
    expect(shed).toHaveLength(1);
    expect(shed[0]).toMatchObject({ records: 2, queued: 1 });
    expect(h.dead.map((d) => d.record)).toEqual([30, 31]);
    expect(h.dead[0].error).toBeInstanceOf(BulkheadFullError);
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
