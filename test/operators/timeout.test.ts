import { describe, expect, it } from "vitest";
import { map, TimeoutError, timeout } from "../../src/operators/index.ts";
import { drive, harness, open, processChunk } from "./stage-harness.ts";

describe("timeout", () => {
  it("fails each record whose call misses the deadline (virtual time)", async () => {
    const h = harness();
    const delays: Record<string, number> = { a: 50, b: 500, c: 99 };
    const st = await open(
      h,
      timeout(
        "100ms",
        map(async (r: string) => {
          await h.clock.sleep(delays[r]);
          return r.toUpperCase();
        }),
      ),
    );
    const t0 = h.clock.now();
    expect(await drive(h.clock, processChunk(st, ["a", "b", "c"]), 1)).toEqual(["A", "C"]);
    expect(h.clock.now() - t0).toBeLessThan(50 + 100 + 99 + 10); // b was abandoned at 100 ms
    expect(h.dead).toHaveLength(1);
    expect(h.dead[0]).toMatchObject({ record: "b", position: { index: 1 } });
    expect(h.dead[0].error).toBeInstanceOf(TimeoutError);
  });

  it("gives one deadline to the whole chunk with per: chunk", async () => {
    const h = harness();
    const st = await open(
      h,
      timeout(
        "100ms",
        map(async (r: string) => {
          await h.clock.sleep(40);
          return r;
        }),
        { per: "chunk" },
      ),
    );
    expect(await drive(h.clock, processChunk(st, ["a", "b"]), 1)).toEqual(["a", "b"]);
    expect(await drive(h.clock, processChunk(st, ["a", "b", "c"]), 1)).toEqual([]);
    expect(h.dead.map((d) => d.record)).toEqual(["a", "b", "c"]);
  });

  it("ignores the late failure of an abandoned call", async () => {
    const h = harness();
    const st = await open(
      h,
      timeout(
        "10ms",
        map(async (r: string) => {
          await h.clock.sleep(100);
          throw new Error(`late ${r}`);
        }),
      ),
    );
    await drive(h.clock, processChunk(st, ["x"]), 1);
    await h.clock.advance(500);
    expect(h.dead).toHaveLength(1);
    expect(h.dead[0].error).toBeInstanceOf(TimeoutError);
  });

  it("never times out synchronous work", async () => {
    const h = harness();
    const st = await open(
      h,
      timeout(
        1,
        map((r: number) => r + 1),
      ),
    );
    expect(await processChunk(st, [1, 2])).toEqual([2, 3]);
  });
});
