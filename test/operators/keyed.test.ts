/**
 * `keyed()`: per-key state with event-time timers and a TTL, on virtual
 * time; a snapshot/restore (through msgpack) at any chunk boundary gives the
 * uninterrupted output.
 */
import { decode, encode } from "@msgpack/msgpack";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { keyed } from "../../src/operators/index.ts";
import type { Stage } from "../../src/pipeline/types.ts";
import { harness, open, processChunk } from "./stage-harness.ts";

interface Ev {
  user: string;
  t: number;
  amount: number;
}
type Out = { user: unknown; total?: number; quiet?: boolean; at?: number };

/** Running total per user; a "quiet" record 100 ms (event time) after a user's last event; TTL 300 ms. */
const totals = () =>
  keyed<Ev, number, Out>(
    (e) => e.user,
    (total, e, ctx) => {
      const next = (total ?? 0) + e.amount;
      ctx.setTimer((ctx.time ?? 0) + 100);
      ctx.emit({ user: e.user, total: next });
      return next;
    },
    {
      time: "t",
      ttl: 300,
      onTimer: (total, ctx) => {
        ctx.emit({ user: ctx.key, quiet: true, total, at: ctx.time });
        return total;
      },
    },
  );

async function drive(events: Ev[], sizes: number[], cut = -1): Promise<Out[]> {
  const h = harness();
  let stage: Stage<Ev, Out> = await open(h, totals());
  const out: Out[] = [];
  let i = 0;
  for (let c = 0; i < events.length; c++) {
    const n = sizes[c % sizes.length];
    out.push(...(await processChunk(stage, events.slice(i, i + n))));
    i += n;
    if (c === cut) {
      const saved = decode(encode(stage.snapshot?.()));
      stage = await open(h, totals());
      stage.restore?.(saved);
    }
  }
  out.push(...((await stage.end?.()) ?? []));
  return out;
}

describe("keyed", () => {
  it("keeps state per key, fires event-time timers as the watermark passes them, and all at end of input", async () => {
    const out = await drive(
      [
        { user: "a", t: 0, amount: 1 },
        { user: "b", t: 10, amount: 5 },
        { user: "a", t: 50, amount: 2 },
        { user: "a", t: 160, amount: 3 }, // watermark 160: a's timers at 100 and b's at 110 fire
        { user: "b", t: 170, amount: 1 },
      ],
      [2],
    );
    expect(out).toEqual([
      { user: "a", total: 1 },
      { user: "b", total: 5 },
      { user: "a", total: 3 },
      { user: "a", total: 6 },
      { user: "a", quiet: true, total: 6, at: 100 },
      { user: "b", quiet: true, total: 5, at: 110 },
      { user: "a", quiet: true, total: 6, at: 150 },
      { user: "b", total: 6 },
      { user: "a", quiet: true, total: 6, at: 260 },
      { user: "b", quiet: true, total: 6, at: 270 },
    ]);
  });

  it("drops a key's state after ttl of event time without a set", async () => {
    const out = await drive(
      [
        { user: "a", t: 0, amount: 1 },
        { user: "z", t: 400, amount: 0 }, // watermark 400 ≥ 0 + 300: a's state expires
        { user: "a", t: 410, amount: 2 },
      ],
      [1],
    );
    expect(out.filter((o) => o.user === "a" && !o.quiet).map((o) => o.total)).toEqual([1, 2]);
  });

  it("a TTL without event time runs on the run's clock", async () => {
    const h = harness();
    const stage = await open(
      h,
      keyed<{ k: string }, number, number>(
        (r) => r.k,
        (n, _r, ctx) => {
          ctx.emit((n ?? 0) + 1);
          return (n ?? 0) + 1;
        },
        { ttl: "1m" },
      ),
    );
    expect(await processChunk(stage, [{ k: "x" }, { k: "x" }])).toEqual([1, 2]);
    await h.clock.advance(30_000);
    expect(await processChunk(stage, [{ k: "x" }])).toEqual([3]);
    await h.clock.advance(61_000);
    expect(await processChunk(stage, [{ k: "x" }])).toEqual([1]);
  });

  it("a failing function dead-letters the record and emits nothing for it; unreadable times are dead-lettered", async () => {
    const h = harness();
    const stage = await open(
      h,
      keyed<{ k: string; t: unknown }, number, string>(
        (r) => r.k,
        (n, r, ctx) => {
          ctx.emit(`before ${r.k}`);
          if (r.k === "bad") throw new Error("boom");
          return (n ?? 0) + 1;
        },
        { time: "t" },
      ),
    );
    const out = await processChunk(stage, [
      { k: "ok", t: 1 },
      { k: "bad", t: 2 },
      { k: "ok", t: "yesterday-ish" },
    ]);
    expect(out).toEqual(["before ok"]);
    expect(h.dead.map((d) => d.reason)).toEqual([
      expect.stringMatching(/threw: boom/),
      expect.stringMatching(/unreadable/),
    ]);
  });

  it("a snapshot and restore at any chunk boundary gives the uninterrupted output", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            user: fc.constantFrom("a", "b", "c", "d"),
            t: fc.integer({ min: 0, max: 2000 }),
            amount: fc.integer({ min: 0, max: 9 }),
          }),
          { minLength: 1, maxLength: 80 },
        ),
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 }),
        fc.nat(15),
        async (events, sizes, cut) => {
          const whole = await drive(events, sizes);
          const resumed = await drive(events, sizes, cut);
          expect(resumed).toEqual(whole);
        },
      ),
      { numRuns: 200 },
    );
  });
});
