import { Effect } from "effect";
import { afterAll, describe, expect, it } from "vitest";
import { pipeline, runCollect, runPipeline } from "../../src/index.ts";
import { map, mapAsync } from "../../src/operators/index.ts";
import { iterable } from "../../src/sources/index.ts";
import { probeSink, tempHome } from "./probe-sink.ts";

const { home, cleanup } = tempHome("sluice-map-async-");
afterAll(cleanup);

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Lets the event loop run once (Effect's scheduler resumes fibers there); not a sleep. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Resolves after `n` microtask turns: records finish out of order without timers. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

describe("mapAsync", () => {
  it("keeps order when calls finish out of order", async () => {
    const out = await runCollect(
      pipeline("ma-ordered")
        .from(iterable(range(2000), { chunkSize: 64 }))
        .via(
          mapAsync(
            async (n: number) => {
              await turns((n * 7919) % 13);
              return n * 2;
            },
            { concurrency: 32 },
          ),
        ),
      { home },
    );
    expect(out).toEqual(range(2000).map((n) => n * 2));
  });

  it("runs calls across chunk boundaries up to the concurrency limit", async () => {
    let active = 0;
    let maxActive = 0;
    const activeChunks = new Map<number, number>();
    let maxChunksActive = 0;
    const out = await runCollect(
      pipeline("ma-limit")
        .from(iterable(range(500), { chunkSize: 10 }))
        .via(
          mapAsync(
            async (n: number) => {
              const c = Math.floor(n / 10);
              active++;
              activeChunks.set(c, (activeChunks.get(c) ?? 0) + 1);
              maxActive = Math.max(maxActive, active);
              maxChunksActive = Math.max(maxChunksActive, activeChunks.size);
              await turns(3 + (n % 5));
              active--;
              const left = (activeChunks.get(c) ?? 1) - 1;
              if (left === 0) activeChunks.delete(c);
              else activeChunks.set(c, left);
              return n;
            },
            { concurrency: 25 },
          ),
        ),
      { home },
    );
    expect(out).toEqual(range(500));
    expect(maxActive).toBe(25);
    // 10-record chunks and 25 permits: at least three chunks were in flight at once.
    expect(maxChunksActive).toBeGreaterThanOrEqual(3);
  });

  it("lets a barrier leave only after every chunk before it, and before any chunk after it", async () => {
    for (const ordered of [true, false]) {
      const sink = probeSink<number>();
      const s = await runPipeline(
        pipeline(`ma-barrier-${ordered}`, { checkpoint: { rows: 100 } })
          .from(iterable(range(1000), { chunkSize: 20 }))
          .via(
            mapAsync(
              async (n: number) => {
                // Later chunks finish first: tempts an unordered stage to overtake the barrier.
                await turns(20 - Math.floor((n % 100) / 5));
                return n;
              },
              { concurrency: 64, ordered },
            ),
          )
          .to(sink),
        { home },
      );
      expect(s.status).toBe("completed");
      expect(sink.commits).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(sink.cuts).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1000]);
      // Each checkpoint covers exactly the records of the rows before it.
      for (let k = 0; k < 10; k++) {
        expect([...sink.records.slice(k * 100, (k + 1) * 100)].sort((a, b) => a - b)).toEqual(
          range(100).map((i) => k * 100 + i),
        );
      }
      if (ordered) expect(sink.records).toEqual(range(1000));
      else {
        // Unordered works at chunk granularity: every chunk arrives whole.
        for (const c of sink.chunks) expect(c).toEqual(range(c.length).map((i) => c[0] + i));
      }
    }
  });

  it("emits chunks as they finish when unordered", async () => {
    const resolvers = new Map<number, () => void>();
    const sink = probeSink<number>();
    const run = runPipeline(
      pipeline("ma-unordered", { checkpoint: false })
        .from(iterable(range(6), { chunkSize: 2 }))
        .via(
          mapAsync(
            (n: number) =>
              new Promise<number>((resolve) => {
                resolvers.set(n, () => resolve(n));
              }),
            { concurrency: 6, ordered: false },
          ),
        )
        .to(sink),
      { home },
    );
    while (resolvers.size < 6) await tick();
    for (const [k, pair] of [
      [4, 5],
      [2, 3],
      [0, 1],
    ].entries()) {
      for (const n of pair) resolvers.get(n)?.();
      while (sink.chunks.length <= k) await tick();
    }
    await run;
    expect(sink.chunks).toEqual([
      [4, 5],
      [2, 3],
      [0, 1],
    ]);
  });

  it("dead-letters failed records and runs Effect-returning functions", async () => {
    const sink = probeSink<number>();
    const s = await runPipeline(
      pipeline("ma-dead", { checkpoint: { rows: 50 } })
        .from(iterable(range(300), { chunkSize: 25 }))
        .via(
          mapAsync((n: number) =>
            n % 10 === 3
              ? Effect.fail(new Error(`no ${n}`))
              : n % 10 === 4
                ? Promise.reject(new Error(`nope ${n}`))
                : Effect.succeed(n + 1),
          ),
          map((n: number) => n),
        )
        .to(sink),
      { home },
    );
    expect(s.status).toBe("completed");
    expect(s.deadLettered).toBe(60);
    expect(sink.records).toEqual(
      range(300)
        .filter((n) => n % 10 !== 3 && n % 10 !== 4)
        .map((n) => n + 1),
    );
    expect(s.rowsIn).toBe(s.rowsOut + s.filtered + s.deadLettered);
    expect(sink.cuts.slice(0, 6)).toEqual([40, 80, 120, 160, 200, 240]);
  });

  it("handles synchronous results and throws", async () => {
    const out = await runCollect(
      pipeline("ma-sync")
        .from(iterable(range(100), { chunkSize: 7 }))
        .via(
          mapAsync((n: number) => {
            if (n === 50) throw new Error("sync throw");
            return n;
          }),
        ),
      { home },
    );
    expect(out).toEqual(range(100).filter((n) => n !== 50));
  });

  it("fails the run with onError: fail", async () => {
    const s = await runPipeline(
      pipeline("ma-fail", { onError: "fail" })
        .from(iterable(range(100)))
        .via(mapAsync(async (n: number) => (n === 42 ? Promise.reject(new Error("boom")) : n)))
        .to(probeSink()),
      { home },
    );
    expect(s.status).toBe("failed");
    expect(s.error?._tag).toBe("StageError");
    expect(s.error?.message).toContain("boom");
  });

  it("rejects a bad concurrency", () => {
    expect(() => mapAsync((n: number) => n, { concurrency: 0 })).toThrow(/concurrency/);
  });
});
