import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/index.ts";
import { cache, fallback, filter, map, retry } from "../../src/operators/index.ts";
import { harness, open, processChunk } from "./stage-harness.ts";

describe("fallback", () => {
  it("replaces failed records with the fallback value, in order", async () => {
    const h = harness();
    const st = await open(
      h,
      fallback(
        (n: number, e: unknown) => `fallback ${n}: ${(e as Error).message}`,
        map((n: number) => {
          if (n % 2) throw new Error("odd");
          return `ok ${n}`;
        }),
      ),
    );
    expect(await processChunk(st, [1, 2, 3])).toEqual(["fallback 1: odd", "ok 2", "fallback 3: odd"]);
    expect(h.dead).toHaveLength(0);
  });

  it("dead-letters a record whose fallback fails too, with both errors", async () => {
    const h = harness();
    const st = await open(
      h,
      fallback(
        async (n: number) => {
          if (n === 3) throw new Error("no default for 3");
          return -n;
        },
        map((n: number): number => {
          throw new Error(`bad ${n}`);
        }),
      ),
    );
    expect(await processChunk(st, [1, 3])).toEqual([-1]);
    expect(h.dead).toHaveLength(1);
    expect(h.dead[0].record).toBe(3);
    expect(h.dead[0].reason).toContain("bad 3");
    expect(h.dead[0].reason).toContain("no default for 3");
  });
});

describe("wrapping", () => {
  it("rejects stages that are not one-to-one, and bad options, with a ConfigError", async () => {
    const h = harness();
    expect(() =>
      retry(
        {},
        filter((n: number) => n > 0),
      ).make(h.ctx),
    ).toThrow(ConfigError);
    expect(() =>
      cache(
        { ttl: "ten minutes" as never },
        map((n: number) => n),
      ),
    ).toThrow(/ttl/);
    expect(() =>
      retry(
        { attempts: 0 },
        map((n: number) => n),
      ),
    ).toThrow(ConfigError);
  });
});
