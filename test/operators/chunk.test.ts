import { Stream } from "effect";
import { afterAll, describe, expect, it } from "vitest";
import { EventBus, type EventOf, makeChunk, pipeline, runPipeline } from "../../src/index.ts";
import { chunk, makeOperator, map } from "../../src/operators/index.ts";
import { type Source, SourceTypeId } from "../../src/pipeline/types.ts";
import { iterable } from "../../src/sources/index.ts";
import { VirtualClock } from "../../src/testing/index.ts";
import { probeSink, tempHome } from "./probe-sink.ts";

const { home, cleanup } = tempHome("sluice-chunk-");
afterAll(cleanup);

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const sizes = (chunks: unknown[][]) => chunks.map((c) => c.length);

/** A source of chunks with the given sizes and byte estimates. */
function chunksOf<A>(parts: Array<{ records: A[]; bytes: number }>): Source<A> {
  return {
    [SourceTypeId]: true,
    name: "parts",
    open: () =>
      Stream.fromIterable(
        parts.map((p, seq) => makeChunk(p.records, { seq, bytes: p.bytes })),
        { chunkSize: 1 },
      ),
  };
}

describe("chunk", () => {
  it("merges small chunks and splits big ones to a fixed row count", async () => {
    const sink = probeSink<number>();
    const parts = [7, 3, 250, 1, 1, 120, 18].reduce<Array<{ records: number[]; bytes: number }>>((acc, n) => {
      const from = acc.reduce((a, p) => a + p.records.length, 0);
      acc.push({ records: range(n).map((i) => from + i), bytes: 0 });
      return acc;
    }, []);
    const s = await runPipeline(
      pipeline("ck-rows", { checkpoint: false })
        .from(chunksOf(parts))
        .via(chunk({ rows: 100 }))
        .to(sink),
      { home },
    );
    expect(s.status).toBe("completed");
    expect(sink.records).toEqual(range(400));
    expect(sizes(sink.chunks)).toEqual([100, 100, 100, 100]);
  });

  it("flushes the partial chunk at each barrier, then passes it", async () => {
    const sink = probeSink<number>();
    const s = await runPipeline(
      pipeline("ck-barrier", { checkpoint: { rows: 250 } })
        .from(iterable(range(1000), { chunkSize: 100 }))
        .via(
          chunk({ rows: 1000 }),
          map((n: number) => n),
        )
        .to(sink),
      { home },
    );
    expect(s.status).toBe("completed");
    expect(sink.records).toEqual(range(1000));
    // A barrier follows every third source chunk (300 rows >= 250).
    expect(sizes(sink.chunks)).toEqual([300, 300, 300, 100]);
    expect(sink.commits).toEqual([1, 2, 3, 4]);
    expect(sink.cuts).toEqual([300, 600, 900, 1000]);
  });

  it("cuts by bytes using the incoming chunk's estimate, or sizeOf", async () => {
    const parts = [
      { records: range(10), bytes: 1000 }, // 100 B per record
      { records: range(10).map((i) => 10 + i), bytes: 200 }, // 20 B per record
      { records: range(30).map((i) => 20 + i), bytes: 300 }, // 10 B per record
    ];
    const sink = probeSink<number>();
    await runPipeline(
      pipeline("ck-bytes", { checkpoint: false })
        .from(chunksOf(parts))
        .via(chunk({ bytes: 250 }))
        .to(sink),
      { home },
    );
    expect(sink.records).toEqual(range(50));
    // 100 B records: 3 per chunk (300 >= 250), one left over (100 B); + 8 of 20 B = 260;
    // 2 left over (40 B) + 21 of 10 B = 250; the last 9 at the end of input.
    expect(sizes(sink.chunks)).toEqual([3, 3, 3, 9, 23, 9]);

    const words = ["a", "bb", "cccc", "dddddddd", "e", "ff", "g"];
    const byLength = probeSink<string>();
    await runPipeline(
      pipeline("ck-sizeof", { checkpoint: false })
        .from(iterable(words, { chunkSize: 2 }))
        .via(chunk<string>({ bytes: 6, sizeOf: (w) => w.length }))
        .to(byLength),
      { home },
    );
    expect(byLength.chunks).toEqual([["a", "bb", "cccc"], ["dddddddd"], ["e", "ff", "g"]]);
  });

  it("grows while the downstream is under target and shrinks when over (virtual clock)", async () => {
    const clock = new VirtualClock(0);
    const bus = new EventBus();
    const changes: Array<EventOf<"config.changed">> = [];
    bus.subscribe((e) => {
      if (e.kind === "config.changed") changes.push(e);
    });
    // Downstream cost: 0.01 ms per record below 40,000, then 0.1 ms (a slowdown).
    const slow = makeOperator<number, number>("slow", "one", () => ({
      type: "chunk",
      async process(records) {
        let ms = 0;
        for (const r of records) ms += r < 40_000 ? 0.01 : 0.1;
        await clock.advance(ms);
        return records;
      },
    }));
    const sink = probeSink<number>();
    const s = await runPipeline(
      pipeline("ck-adaptive", { checkpoint: false })
        .from(iterable(range(60_000), { chunkSize: 1000 }))
        .via(chunk({ adaptive: { targetLatency: "50ms", min: 100, max: 100_000 } }), slow)
        .to(sink),
      { home, clock, bus, sampleResources: false },
    );
    expect(s.status).toBe("completed");
    expect(sink.records).toEqual(range(60_000));
    const to = changes.map((c) => c.to);
    // Doubles while a chunk takes under half the target (1, 2, 4, 8, 16 ms), then
    // holds at 3200 rows (32 ms: inside the band); the slowdown shrinks it to
    // 450 rows (0.1 ms x 450 = 45 ms, 90% of the target).
    expect(to.slice(0, 5)).toEqual([200, 400, 800, 1600, 3200]);
    expect(to.slice(5).every((n, i) => n < (i === 0 ? 3200 : to[4 + i]))).toBe(true);
    expect(to.at(-1)).toBe(450);
    expect(changes.every((c) => c.stage === "1:chunk" && c.setting === "chunk.rows")).toBe(true);
    expect(changes[0].reason).toBe("downstream took 1 ms per 100-row chunk (under half the 50 ms target)");
    expect(changes.at(-1)?.reason).toMatch(/per \d+-row chunk \(over the 50 ms target\)/);
    // Output chunks follow the size in force when they were cut, and it settles.
    const cut = sizes(sink.chunks);
    for (const n of [100, 200, 400, 800, 1600, 3200]) expect(cut).toContain(n);
    expect(cut.slice(-20, -1).every((n) => n === 450)).toBe(true);
  });

  it("rejects options that are not exactly one mode", () => {
    expect(() => chunk({} as never)).toThrow(/exactly one of rows, bytes or adaptive/);
    expect(() => chunk({ rows: 10, bytes: 5 } as never)).toThrow(/exactly one/);
    expect(() => chunk({ rows: 0 })).toThrow(/rows must be a positive integer/);
    expect(() => chunk({ bytes: "lots" as never })).toThrow(/not a size/);
    expect(() => chunk({ adaptive: { min: 500, max: 100 } })).toThrow(/min <= initial <= max/);
  });
});
