import { describe, expect, it } from "vitest";
import { toBytes, toMillis } from "../../src/index.ts";

describe("durations and sizes", () => {
  it.each([
    [250, 250],
    ["250ms", 250],
    ["10s", 10_000],
    ["1.5m", 90_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
  ])("toMillis(%s) = %s", (v, ms) => expect(toMillis(v as never)).toBe(ms));

  it.each([
    [65536, 65536],
    ["64KiB", 65536],
    ["1MiB", 1048576],
    ["1.5GB", 1_500_000_000],
    ["16mib", 16 * 1048576],
  ])("toBytes(%s) = %s", (v, b) => expect(toBytes(v as never)).toBe(b));

  it("names the option and says what to write instead", () => {
    expect(() => toMillis("soon" as never, "checkpoint.every")).toThrow(
      /checkpoint.every: "soon" is not a duration/,
    );
    expect(() => toBytes("lots" as never, "bufferSize")).toThrow(/bufferSize: "lots" is not a size/);
    expect(() => toMillis(-1, "x")).toThrow(/not a duration/);
  });
});
