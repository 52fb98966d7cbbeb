import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Stream } from "effect";
import { afterAll, describe, expect, it } from "vitest";
import { EventBus, type EventOf, pipeline, runPipeline } from "../../src/index.ts";
import { cache, makeOperator, map } from "../../src/operators/index.ts";
import type { Chunk } from "../../src/pipeline/chunk.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";
import { VirtualClock } from "../../src/testing/virtual-clock.ts";
import { drive, harness, open, processChunk } from "./stage-harness.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-cache-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let homes = 0;
const newHome = () => join(root, `h${homes++}`);

/** A map that counts the records it computes. */
function counted<A, B>(fn: (a: A) => B | Promise<B>) {
  const seen: A[] = [];
  return {
    seen,
    op: map((a: A) => {
      seen.push(a);
      return fn(a);
    }),
  };
}

const total = (events: ReturnType<ReturnType<typeof harness>["eventsOf"]>, field: string) =>
  events.reduce((a, e) => a + ((e as unknown as Record<string, number>)[field] ?? 0), 0);

describe("cache L1", () => {
  it("serves repeated keys without calling the stage and keeps order", async () => {
    const h = harness();
    const inner = counted((n: number) => n * 10);
    const st = await open(h, cache({ key: (n: number) => n % 3 }, inner.op));
    expect(await processChunk(st, [1, 2, 3, 4, 5, 6])).toEqual([10, 20, 30, 10, 20, 30]);
    expect(await processChunk(st, [7, 8, 9])).toEqual([10, 20, 30]);
    expect(inner.seen).toEqual([1, 2, 3]);
    await st.close?.();
    const stats = h.eventsOf("cache.stats");
    expect(total(stats, "hits")).toBe(6);
    expect(total(stats, "misses")).toBe(3);
  });

  it("bounds L1 by bytes and evicts the least recently used", async () => {
    const h = harness();
    const inner = counted((s: string) => s.toUpperCase());
    // Each entry counts 48 + 2×key + 1000 bytes; 3 fit in 3500 bytes, 4 do not.
    const st = await open(
      h,
      cache({ key: (s: string) => s, maxBytes: 3500, maxEntries: 1000, sizeOf: () => 1000 }, inner.op),
    );
    await processChunk(st, ["a", "b", "c"]);
    await processChunk(st, ["a"]); // a is now the most recent
    await processChunk(st, ["d"]); // evicts b, the least recent
    expect(inner.seen).toEqual(["a", "b", "c", "d"]);
    await processChunk(st, ["a", "c", "d"]);
    expect(inner.seen).toHaveLength(4);
    await processChunk(st, ["b"]);
    expect(inner.seen).toEqual(["a", "b", "c", "d", "b"]);
    st.snapshot?.();
    const stats = h.eventsOf("cache.stats");
    expect(total(stats, "evictions")).toBe(2);
    expect(stats.at(-1)!.entries).toBe(3);
    expect(stats.at(-1)!.bytes).toBeLessThanOrEqual(3500);
  });

  it("expires entries after the TTL on the injected clock", async () => {
    const h = harness();
    const inner = counted((n: number) => n + 1);
    const st = await open(h, cache({ key: (n: number) => n, ttl: "10s" }, inner.op));
    await processChunk(st, [1]);
    await h.clock.advance(9_999);
    await processChunk(st, [1]);
    expect(inner.seen).toEqual([1]);
    await h.clock.advance(1);
    await processChunk(st, [1]);
    expect(inner.seen).toEqual([1, 1]);
  });

  it("calls the stage once per key for concurrent misses (single-flight)", async () => {
    const h = harness();
    const clock = h.clock;
    const inner = counted(async (k: string) => {
      await clock.sleep(100);
      return `v:${k}`;
    });
    const st = await open(h, cache({ key: (k: string) => k }, inner.op));
    // Duplicates within a chunk, and a second chunk asking for the same keys while the first is computing.
    const a = processChunk(st, ["x", "x", "y", "x"]);
    const b = processChunk(st, ["y", "x", "z"]);
    const [ra, rb] = await drive(clock, Promise.all([a, b]));
    expect(ra).toEqual(["v:x", "v:x", "v:y", "v:x"]);
    expect(rb).toEqual(["v:y", "v:x", "v:z"]);
    expect(inner.seen.sort()).toEqual(["x", "y", "z"]);
  });

  it("does not cache failures: they go to the dead letter with their position", async () => {
    const h = harness();
    let fail = true;
    const inner = counted((n: number) => {
      if (n === 2 && fail) throw new Error("flaky 2");
      return n;
    });
    const st = await open(h, cache({ key: (n: number) => n }, inner.op));
    expect(await processChunk(st, [1, 2, 3])).toEqual([1, 3]);
    expect(h.dead).toHaveLength(1);
    expect(h.dead[0]).toMatchObject({ record: 2, attempts: 1, position: { index: 1 } });
    expect(h.dead[0].reason).toContain("flaky 2");
    fail = false;
    expect(await processChunk(st, [1, 2, 3])).toEqual([1, 2, 3]);
    expect(inner.seen).toEqual([1, 2, 3, 2]);
  });

  it("keys records by a stable serialisation by default", async () => {
    const h = harness();
    const inner = counted((r: { a: number; b: string }) => r.a);
    const st = await open(h, cache({}, inner.op));
    await processChunk(st, [
      { a: 1, b: "x" },
      { b: "x", a: 1 },
      { a: 2, b: "x" },
    ]);
    expect(inner.seen).toHaveLength(2);
  });

  it("wraps a stream stage (e.g. a pool) and merges its results back in order", async () => {
    const h = harness();
    const seen: number[] = [];
    const streamStage = makeOperator<number, number>("pool", "one", () => ({
      type: "stream",
      apply: (input) =>
        Stream.map(input, (c: Chunk<number>) => {
          seen.push(...c.records);
          return { ...c, records: c.records.map((n) => -n) };
        }),
    }));
    const st = await open(h, cache({ key: (n: number) => n }, streamStage));
    expect(await processChunk(st, [1, 2, 1, 3])).toEqual([-1, -2, -1, -3]);
    expect(await processChunk(st, [3, 4])).toEqual([-3, -4]);
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it("publishes cache.stats per interval, not per hit", async () => {
    const h = harness();
    const st = await open(
      h,
      cache(
        { key: (n: number) => n % 10, statsInterval: "1s" },
        map((n: number) => n),
      ),
    );
    for (let i = 0; i < 100; i++) {
      await processChunk(
        st,
        Array.from({ length: 100 }, (_, k) => k),
      );
      if (i % 10 === 9) await h.clock.advance(1000);
    }
    await st.close?.();
    const stats = h.eventsOf("cache.stats");
    expect(stats.length).toBeLessThanOrEqual(11);
    expect(total(stats, "hits") + total(stats, "misses")).toBe(10_000);
    expect(total(stats, "misses")).toBe(10);
    expect(stats[0].hitRate).toBeCloseTo(0.99);
  });
});

describe("cache L2", () => {
  it("demotes L1 evictions to disk and promotes L2 hits back", async () => {
    const home = newHome();
    const h = harness({ home });
    const inner = counted((k: string) => `v:${k}`);
    const st = await open(h, cache({ key: (k: string) => k, maxEntries: 2, disk: true }, inner.op));
    await processChunk(st, ["a", "b", "c"]); // c evicts a -> demoted
    expect(await processChunk(st, ["a"])).toEqual(["v:a"]); // L2 hit, promoted (evicts b -> demoted)
    expect(await processChunk(st, ["b", "a"])).toEqual(["v:b", "v:a"]);
    expect(inner.seen).toEqual(["a", "b", "c"]);
    await st.close?.();
    const stats = h.eventsOf("cache.stats");
    expect(total(stats, "demotions")).toBeGreaterThanOrEqual(2);
    expect(total(stats, "promotions")).toBeGreaterThanOrEqual(2);
    expect(total(stats, "l2Hits")).toBeGreaterThanOrEqual(2);
    expect(total(stats, "evictions")).toBeGreaterThanOrEqual(2);
  });

  it("promotes only after promoteAfter L2 reads", async () => {
    const home = newHome();
    const h = harness({ home });
    const mk = () =>
      cache(
        { key: (k: string) => k, disk: { promoteAfter: 2 } },
        map((k: string) => k),
      );
    const st = await open(h, mk());
    await processChunk(st, ["a"]);
    await st.close?.(); // flushes "a" to L2
    const h2 = harness({ home });
    const st2 = await open(h2, mk());
    await processChunk(st2, ["a"]);
    await processChunk(st2, ["a"]);
    await processChunk(st2, ["a"]);
    await st2.close?.();
    const stats = h2.eventsOf("cache.stats");
    expect(total(stats, "l2Hits")).toBe(2);
    expect(total(stats, "promotions")).toBe(1);
    expect(total(stats, "hits")).toBe(3);
  });

  it("survives a restart: a new instance on the same directory serves from disk", async () => {
    const home = newHome();
    const first = counted((n: number) => ({ n, sq: n * n, at: new Date(0) }));
    const h1 = harness({ home });
    const st1 = await open(h1, cache({ key: (n: number) => n, disk: true, namespace: "squares" }, first.op));
    await processChunk(
      st1,
      Array.from({ length: 500 }, (_, i) => i),
    );
    await st1.close?.();

    const second = counted((n: number) => ({ n, sq: -1, at: new Date(0) }));
    const h2 = harness({ home });
    const st2 = await open(h2, cache({ key: (n: number) => n, disk: true, namespace: "squares" }, second.op));
    const out = await processChunk(st2, [3, 499, 500]);
    expect(out).toEqual([
      { n: 3, sq: 9, at: new Date(0) },
      { n: 499, sq: 499 * 499, at: new Date(0) },
      { n: 500, sq: -1, at: new Date(0) },
    ]);
    expect(second.seen).toEqual([500]);
    await st2.close?.();
  });

  it("never serves entries of another version", async () => {
    const home = newHome();
    const run = async (version: number, factor: number, input: number[]) => {
      const inner = counted((n: number) => n * factor);
      const st = await open(
        harness({ home }),
        cache({ key: (n: number) => n, disk: true, namespace: "v", version }, inner.op),
      );
      const out = await processChunk(st, input);
      await st.close?.();
      return { out, computed: inner.seen };
    };
    expect(await run(1, 10, [1, 2])).toEqual({ out: [10, 20], computed: [1, 2] });
    expect(await run(1, 0, [1, 2])).toEqual({ out: [10, 20], computed: [] });
    expect(await run(2, 100, [1, 2])).toEqual({ out: [100, 200], computed: [1, 2] });
    // Back to version 1: version 2 replaced the store, so nothing of version 1 is left.
    expect(await run(1, 10, [1])).toEqual({ out: [10], computed: [1] });
  });

  it("expires L2 entries by TTL across a restart (wall clock)", async () => {
    const home = newHome();
    const clock = new VirtualClock(1_700_000_000_000);
    const mk = (c: ReturnType<typeof counted<number, number>>) =>
      cache({ key: (n: number) => n, disk: true, ttl: "1h", namespace: "ttl" }, c.op);
    const a = counted((n: number) => n);
    const st = await open(harness({ home, clock }), mk(a));
    await processChunk(st, [1, 2]);
    await st.close?.();
    await clock.advance(30 * 60_000);
    const b = counted((n: number) => n);
    const st2 = await open(harness({ home, clock }), mk(b));
    await processChunk(st2, [1]);
    await st2.close?.();
    expect(b.seen).toEqual([]);
    await clock.advance(31 * 60_000);
    const c = counted((n: number) => n);
    const st3 = await open(harness({ home, clock }), mk(c));
    await processChunk(st3, [1, 2]);
    await st3.close?.();
    expect(c.seen).toEqual([1, 2]);
  });

  it("bounds L2 by entries, evicting the soonest to expire", async () => {
    const home = newHome();
    const h = harness({ home });
    const st = await open(
      h,
      cache(
        { key: (n: number) => n, maxEntries: 10, ttl: "1h", disk: { maxEntries: 100 }, namespace: "bounded" },
        map((n: number) => n),
      ),
    );
    for (let i = 0; i < 5; i++) {
      await processChunk(
        st,
        Array.from({ length: 100 }, (_, k) => i * 100 + k),
      );
      await h.clock.advance(1000);
    }
    await st.close?.();
    const again = counted((n: number) => n);
    const st2 = await open(
      harness({ home, clock: h.clock }),
      cache({ key: (n: number) => n, ttl: "1h", disk: { maxEntries: 100 }, namespace: "bounded" }, again.op),
    );
    await processChunk(st2, [0, 499]);
    await st2.close?.();
    expect(again.seen).toEqual([0]); // the oldest went, the newest stayed
  });

  it("loads warm-up pairs before the first record", async () => {
    const h = harness();
    const inner = counted((n: number) => n);
    const st = await open(
      h,
      cache(
        {
          key: (n: number) => n,
          warmUp: [
            [1, 100],
            [2, 200],
          ] as const,
        },
        inner.op,
      ),
    );
    expect(await processChunk(st, [1, 2, 3])).toEqual([100, 200, 3]);
    expect(inner.seen).toEqual([3]);
  });

  it("warms up from a source of pairs", async () => {
    const h = harness();
    const inner = counted((k: string) => `computed ${k}`);
    const st = await open(
      h,
      cache(
        {
          key: (k: string) => k,
          warmUp: iterable(
            Array.from({ length: 2500 }, (_, i) => [`k${i}`, `warm ${i}`] as const),
            { chunkSize: 1000 },
          ),
        },
        inner.op,
      ),
    );
    expect(await processChunk(st, ["k0", "k2499", "k2500"])).toEqual([
      "warm 0",
      "warm 2499",
      "computed k2500",
    ]);
    expect(inner.seen).toEqual(["k2500"]);
  });

  it("is used by a resumed run and by the next run of a pipeline", async () => {
    const home = newHome();
    const rows = Array.from({ length: 2000 }, (_, i) => i);
    const computed: number[] = [];
    const p = (items: number[]) =>
      pipeline("enrich", { checkpoint: { rows: 200 } })
        .from(iterable(items, { chunkSize: 100 }))
        .via(
          cache(
            { key: (n: number) => n % 300, disk: true },
            map(async (n: number) => {
              computed.push(n);
              return n % 300;
            }),
          ),
        );
    const bus = new EventBus();
    const cps: EventOf<"checkpoint">[] = [];
    bus.subscribe((e) => e.kind === "checkpoint" && cps.push(e));
    const first = collect<number>();
    await runPipeline(p(rows.slice(0, 1000)).to(first), { home, bus });
    expect(computed).toHaveLength(300);
    const cp = cps.filter((c) => c.sourceOffset !== undefined).at(-2)!;

    // A resumed run (a new process would open the same L2 directory) computes nothing.
    const resumed = collect<number>();
    const s = await runPipeline(p(rows).to(resumed), { home, resume: { runId: cp.runId, checkpoint: cp } });
    expect(s.status).toBe("completed");
    expect(computed).toHaveLength(300);
    expect(resumed.records).toEqual(
      rows.slice((cp.sourceOffset as { index: number }).index).map((n) => n % 300),
    );

    // And so does a new run.
    const again = collect<number>();
    await runPipeline(p(rows).to(again), { home });
    expect(computed).toHaveLength(300);
    expect(again.records).toEqual(rows.map((n) => n % 300));
    expect(readFileSync(join(home, "cache", "enrich.1_cache.map", "store.lmdb")).length).toBeGreaterThan(0);
  });
});
