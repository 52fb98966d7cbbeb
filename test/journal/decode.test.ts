/**
 * The fast journal decoder (src/journal/internal/decode.ts) reads every
 * payload exactly as `@msgpack/msgpack` does, on node, bun and deno, and
 * leaves to the library (by throwing) what it does not handle.
 */
import { join } from "node:path";
import { Decoder, Encoder, encode } from "@msgpack/msgpack";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FastDecoder } from "../../src/journal/internal/decode.ts";
import { available, repo, runScript } from "../helpers/runtimes.ts";
import { requireTool } from "../helpers/tools.ts";
import { decodeCases } from "./decode-values.ts";

const value = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double(),
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 260 }),
    fc.string({ unit: "grapheme-ascii", minLength: 120, maxLength: 220 }),
    fc.constantFrom("dead.letter", "source", "catch-up", "expected 6 fields but found 3"),
    fc.uint8Array({ maxLength: 64 }),
    fc.date({ noInvalidDate: true }),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("value"), { maxKeys: 5 }),
  ),
})).value;

describe("fast journal decoder", () => {
  it("decodes any value as the library does, again from its string cache", () => {
    const fast = new FastDecoder();
    const lib = new Decoder();
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encode(v);
        const expected = lib.decode(bytes);
        expect(fast.decode(bytes)).toEqual(expected);
        expect(fast.decode(bytes)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("decodes the edge cases as the library does (lengths around its thresholds, surrogates, extensions)", () => {
    const fast = new FastDecoder();
    const lib = new Decoder();
    for (const v of decodeCases()) {
      const bytes = encode(v);
      expect(fast.decode(bytes), JSON.stringify(v)?.slice(0, 80)).toStrictEqual(lib.decode(bytes));
    }
    // float32, as another writer may encode it
    const f32 = new Encoder({ forceFloat32: true }).encode(1.1);
    expect(fast.decode(f32)).toBe(lib.decode(f32));
  });

  it("throws for what the library must decode or refuse: non-string keys, __proto__, deep nesting, bad bytes", () => {
    const fast = new FastDecoder();
    const lib = new Decoder();
    const numberKey = new Uint8Array([0x81, 0x01, 0xa1, 0x78]); // { 1: "x" }
    expect(() => fast.decode(numberKey)).toThrow();
    expect(lib.decode(numberKey)).toEqual({ 1: "x" });
    const proto = new Uint8Array([0x81, 0xa9, ...new TextEncoder().encode("__proto__"), 0x01]);
    expect(() => fast.decode(proto)).toThrow();
    expect(() => lib.decode(proto)).toThrow(/__proto__/);
    // Deeper than the library's encoder writes (100), as bytes: 2000 one-item arrays around 1.
    let deep: unknown = 1;
    for (let i = 0; i < 2000; i++) deep = [deep];
    const nested = new Uint8Array([...new Array(2000).fill(0x91), 0x01]);
    expect(() => fast.decode(nested)).toThrow();
    expect(lib.decode(nested)).toEqual(deep);
    const truncated = encode({ a: "hello" }).subarray(0, 5);
    expect(() => fast.decode(truncated)).toThrow();
    expect(() => lib.decode(truncated)).toThrow();
    const extra = new Uint8Array([...encode(1), 0x01]);
    expect(() => fast.decode(extra)).toThrow();
    expect(() => lib.decode(extra)).toThrow();
    expect(() => fast.decode(new Uint8Array([0xc1]))).toThrow();
  });

  describe.each(["node", "bun", "deno"] as const)("on %s", (runtime) => {
    it("agrees with the library on every edge case", (ctx) => {
      requireTool(ctx, available(runtime), runtime, "npm install (bun and deno are dev dependencies)");
      const r = runScript(runtime, join(repo, "test/journal/decode-smoke.ts"), []);
      expect(r.status, r.stderr).toBe(0);
      expect(r.output.differ).toEqual([]);
      expect(r.output.same).toBe(r.output.cases);
    });
  });
});
