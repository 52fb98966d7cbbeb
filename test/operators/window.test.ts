/**
 * The window operators against an independent reference (a plain loop, see
 * window-reference.ts) on generated out-of-order streams with late and
 * too-late records: every kind, both emit modes, any chunking, with and
 * without partitions; and a snapshot/restore at a random chunk boundary
 * (through msgpack, as checkpoints travel) gives the uninterrupted output.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeWindow, plain, runOp, sorted } from "./window-harness.ts";
import { type Kind, type Rec, reference } from "./window-reference.ts";

const kindArb: fc.Arbitrary<Kind> = fc.oneof(
  fc.constantFrom(10, 25, 60).map((size): Kind => ({ type: "tumbling", size })),
  fc
    .tuple(fc.constantFrom(20, 30, 60), fc.constantFrom(5, 10, 20))
    .map(([size, every]): Kind => ({ type: "sliding", size, every: Math.min(size, every) })),
  fc.constantFrom(3, 8, 20).map((gap): Kind => ({ type: "session", gap })),
);

/** An out-of-order stream: a drifting clock with jitter, and now and then a record far behind. */
const streamArb = fc
  .array(
    fc.record({
      step: fc.integer({ min: 0, max: 6 }),
      jitter: fc.integer({ min: -15, max: 15 }),
      far: fc.integer({ min: 0, max: 19 }),
      k: fc.constantFrom("a", "b", "c"),
      v: fc.integer({ min: -50, max: 50 }),
      p: fc.integer({ min: 0, max: 2 }),
    }),
    { minLength: 1, maxLength: 150 },
  )
  .map((xs) => {
    let now = 1000;
    return xs.map((x, id): Rec => {
      now += x.step;
      const t = x.far === 0 ? now - 60 - x.jitter * 4 : now + x.jitter;
      return { id, k: x.k, t, v: x.v, p: x.p };
    });
  });

const optsArb = fc.record({
  bound: fc.constantFrom(0, 5, 20),
  lateness: fc.constantFrom(0, 10, 40),
  updates: fc.boolean(),
  partitioned: fc.boolean(),
});

describe("window operators against the reference loop", () => {
  it("agree on every kind, both emit modes, late and too-late records, any chunking", async () => {
    await fc.assert(
      fc.asyncProperty(
        kindArb,
        streamArb,
        optsArb,
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
        async (kind, input, o, sizes) => {
          const ref = reference(input, { kind, ...o });
          const got = await runOp(makeWindow(kind, o) as never, input, sizes);
          expect(sorted(got.out.map(plain))).toEqual(sorted(ref.out));
          expect(got.late).toEqual(ref.late);
          for (const r of got.reasons)
            expect(r).toMatch(/^late by \S+: event time .* window \[.*\) of key "[abc]" closed/);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("a snapshot and restore (through msgpack) at any chunk boundary gives the uninterrupted output, in order", async () => {
    await fc.assert(
      fc.asyncProperty(
        kindArb,
        streamArb,
        optsArb,
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 4 }),
        fc.nat(20),
        async (kind, input, o, sizes, cut) => {
          const whole = await runOp(makeWindow(kind, o) as never, input, sizes);
          const resumed = await runOp(makeWindow(kind, o) as never, input, sizes, cut);
          expect(JSON.stringify(resumed.out)).toBe(JSON.stringify(whole.out));
          expect(resumed.late).toEqual(whole.late);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("the output order does not depend on chunking", async () => {
    await fc.assert(
      fc.asyncProperty(
        kindArb,
        streamArb,
        optsArb,
        fc.integer({ min: 1, max: 50 }),
        async (kind, input, o, n) => {
          const one = await runOp(makeWindow(kind, o) as never, input, [1]);
          const many = await runOp(makeWindow(kind, o) as never, input, [n]);
          expect(JSON.stringify(many.out)).toBe(JSON.stringify(one.out));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("session merging (properties)", () => {
  it("with no late drops, sessions of a key are disjoint, more than gap apart, and hold every record once", async () => {
    await fc.assert(
      fc.asyncProperty(
        streamArb,
        fc.constantFrom(1, 4, 10, 30),
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 4 }),
        async (input, gap, sizes) => {
          // A bound as large as the whole disorder: nothing is late.
          const got = await runOp(
            makeWindow({ type: "session", gap }, { bound: 10_000, lateness: 0, updates: false }) as never,
            input,
            sizes,
          );
          expect(got.late).toEqual([]);
          const total = got.out.reduce((a, r) => a + (r.n as number), 0);
          expect(total).toBe(input.length);
          for (const k of ["a", "b", "c"]) {
            const ss = got.out
              .filter((r) => r.key === k)
              .sort((x, y) => x.start.getTime() - y.start.getTime());
            for (let i = 1; i < ss.length; i++)
              expect(ss[i].start.getTime()).toBeGreaterThan(ss[i - 1].end.getTime());
            const ts = input.filter((r) => r.k === k).map((r) => r.t);
            for (const s of ss) {
              const inside = ts.filter((t) => t >= s.start.getTime() && t < s.end.getTime());
              expect(inside.length).toBe(s.n);
              expect(Math.max(...inside) + gap).toBe(s.end.getTime());
              expect(Math.min(...inside)).toBe(s.start.getTime());
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a record that bridges two sessions merges them (touching counts)", async () => {
    const rec = (id: number, t: number): Rec => ({ id, k: "a", t, v: id });
    const got = await runOp(
      makeWindow({ type: "session", gap: 10 }, { bound: 100, lateness: 0, updates: false }) as never,
      [rec(0, 0), rec(1, 30), rec(2, 10), rec(3, 20), rec(4, 55)],
      [1],
    );
    expect(got.out.map((r) => [r.start.getTime(), r.end.getTime(), r.n, r.first, r.last])).toEqual([
      [0, 40, 4, 0, 1],
      [55, 65, 1, 4, 4],
    ]);
  });
});
