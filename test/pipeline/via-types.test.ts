/**
 * `.via()` with any number of operators: type inference flows from each
 * operator to the next (lambda parameters get the previous stage's output
 * type) and the pipeline's record type is the last operator's output. These
 * assertions are checked by `tsc` (`npm run typecheck`, which includes
 * test/): before the fix, `.via()` took at most 6 operators and this file
 * did not compile ("Expected 1-6 arguments"). The run checks the chain also
 * does what its types say.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import { type Pipeline, pipeline, runPipeline } from "../../src/index.ts";
import { filter, map } from "../../src/operators/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";

const home = mkdtempSync(join(tmpdir(), "sluice-via-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const inc = map((n: number) => n + 1);
const inc21 = [
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
  inc,
] as const;

describe(".via() types", () => {
  it("infers through 8 operators, each lambda typed by the stage before", async () => {
    const p = pipeline("eight")
      .from(iterable([1, 2, 3]))
      .via(
        map((n) => ({ n })),
        map((r) => ({ ...r, s: String(r.n) })),
        filter((r) => r.s !== "2"),
        map((r) => r.n * 10),
        map((n) => [n, n] as const),
        map(([a, b]) => a + b),
        map((n) => ({ total: n })),
        map((r) => `total=${r.total}`),
      );
    expectTypeOf(p).toEqualTypeOf<Pipeline<string>>();
    const out = collect<string>();
    const s = await runPipeline(p.to(out), { home });
    expect(s.status, s.error?.message).toBe("completed");
    expect(out.records).toEqual(["total=20", "total=60"]);
  });

  it("types a chain of 20 with inference, and longer chains checked stage by stage", async () => {
    const twenty = pipeline("twenty")
      .from(iterable([0]))
      .via(
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        map((n) => ({ n })),
      );
    expectTypeOf(twenty).toEqualTypeOf<Pipeline<{ n: number }>>();

    const label = map((n: number) => `n=${n}`);
    const p = pipeline("long")
      .from(iterable([0]))
      .via(
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        inc,
        label,
      );
    expectTypeOf(p).toEqualTypeOf<Pipeline<string>>();
    const out = collect<string>();
    const s = await runPipeline(p.to(out), { home });
    expect(s.status, s.error?.message).toBe("completed");
    expect(out.records).toEqual(["n=22"]);
  });

  it("rejects a stage whose input does not fit, at any length", () => {
    const label = map((n: number) => `n=${n}`);
    const start = () => pipeline("bad").from(iterable([0]));
    // @ts-expect-error the 8th operator takes a number but gets a string
    expect(() => start().via(inc, inc, inc, inc, inc, inc, label, inc)).not.toThrow();
    // @ts-expect-error the 23rd operator takes a number but gets a string
    expect(() => start().via(...inc21, label, inc)).not.toThrow();
  });
});
