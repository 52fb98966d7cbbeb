/**
 * The window operators in a pipeline and on virtual time: the issue's
 * example end to end (late records in the dead letter, counts reconcile),
 * idleness of partitions (and backpressure is not idleness), event times
 * that cannot be read, reducers, options checking and `window.progress`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import { EventBus, type EventOf, pipeline, runPipeline } from "../../src/index.ts";
import { window } from "../../src/operators/index.ts";
import { ConfigError } from "../../src/pipeline/errors.ts";
import type { Operator } from "../../src/pipeline/types.ts";
import type { Duration } from "../../src/pipeline/units.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";
import { harness, open, processChunk } from "./stage-harness.ts";

const home = mkdtempSync(join(tmpdir(), "sluice-window-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const T = Date.parse("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(T + s * 1000).toISOString();
interface Order {
  id: number;
  ts: string;
  category: string;
  amount: number;
}

describe("window.tumbling in a pipeline", () => {
  it("the issue's example: per-minute revenue, late records dead-lettered with their window, counts reconcile", async () => {
    const orders: Order[] = [
      { id: 1, ts: at(5), category: "books", amount: 10 },
      { id: 2, ts: at(50), category: "games", amount: 5 },
      { id: 3, ts: at(70), category: "books", amount: 7 },
      { id: 4, ts: at(40), category: "books", amount: 1 }, // out of order, within the bound
      { id: 5, ts: at(130), category: "games", amount: 2 },
      { id: 6, ts: at(250), category: "books", amount: 3 }, // watermark → 220 s
      { id: 7, ts: at(59), category: "books", amount: 100 }, // window [0,60) closed at 60+120 = 180 s: too late
      { id: 8, ts: at(100), category: "games", amount: 4 }, // window [60,120) fired at 120, held until 240: joins
      { id: 9, ts: "not a time", category: "books", amount: 1 },
    ];
    const out = collect<Record<string, unknown>>();
    const bus = new EventBus();
    const dead: EventOf<"dead.letter">[] = [];
    bus.subscribe((e) => e.kind === "dead.letter" && dead.push(e));
    const s = await runPipeline(
      pipeline("revenue")
        .from(iterable(orders, { chunkSize: 2 }))
        .via(
          window.tumbling("1m", {
            time: (o) => o.ts,
            watermark: { outOfOrder: "30s" },
            lateness: "2m",
            key: (o) => o.category,
            aggregate: { n: "count", revenue: ["sum", "amount"] },
            emit: "final",
          }),
        )
        .to(out),
      { home, bus },
    );
    const rows = out.records.map((r) => ({
      key: r.key,
      start: (r.start as Date).toISOString(),
      end: (r.end as Date).toISOString(),
      n: r.n,
      revenue: r.revenue,
    }));
    expect(rows).toEqual([
      { key: "books", start: at(0), end: at(60), n: 2, revenue: 11 },
      { key: "games", start: at(0), end: at(60), n: 1, revenue: 5 },
      { key: "books", start: at(60), end: at(120), n: 1, revenue: 7 },
      { key: "games", start: at(60), end: at(120), n: 1, revenue: 4 },
      { key: "games", start: at(120), end: at(180), n: 1, revenue: 2 },
      { key: "books", start: at(240), end: at(300), n: 1, revenue: 3 },
    ]);
    expect(dead.map((d) => (d.record as Order).id)).toEqual([7, 9]);
    expect(dead[0].reason).toBe(
      `late by 2m41s: event time ${at(59)} arrived at watermark ${at(220)}, after its window [${at(0)}, ${at(60)}) of key "books" closed (end + lateness 2m)`,
    );
    expect(dead[1].reason).toMatch(/event time unreadable/);
    expect(s.rowsIn).toBe(9);
    expect(s.deadLettered).toBe(2);
    expect(s.rowsOut).toBe(6);
  });

  it('emit: "updates" fires at the end of the window and again for each late record', async () => {
    const orders: Order[] = [
      { id: 1, ts: at(10), category: "a", amount: 1 },
      { id: 2, ts: at(70), category: "a", amount: 2 }, // wm 70: [0,60) fires
      { id: 3, ts: at(20), category: "a", amount: 3 }, // late, within lateness: update
      { id: 4, ts: at(200), category: "a", amount: 4 },
    ];
    const out = collect<Record<string, unknown>>();
    await runPipeline(
      pipeline("updates")
        .from(iterable(orders))
        .via(
          window.tumbling("1m", {
            time: "ts",
            watermark: { outOfOrder: 0 },
            lateness: "1m",
            aggregate: { total: ["sum", "amount"] },
            emit: "updates",
          }),
        )
        .to(out),
      { home },
    );
    expect(out.records.map((r) => [(r.start as Date).toISOString(), r.total, r.key])).toEqual([
      [at(0), 1, null],
      [at(0), 4, null],
      [at(60), 2, null],
      [at(180), 4, null],
    ]);
  });
});

describe("partitions and idleness (virtual time)", () => {
  type R = { p: string; t: number };
  const op = (idle?: Duration) =>
    window.tumbling(10, {
      time: "t",
      watermark: { outOfOrder: 0, partition: (r: R) => r.p, ...(idle ? { idle } : {}) },
      lateness: 0,
      aggregate: { n: "count" },
    });

  it("the watermark is the minimum over partitions; a silent partition holds it back without idle", async () => {
    const h = harness();
    const stage = await open(h, op());
    expect(await processChunk(stage, [{ p: "b", t: 0 }])).toEqual([]);
    for (let i = 1; i <= 10; i++) {
      await h.clock.advance(1000);
      expect(await processChunk(stage, [{ p: "a", t: i * 10 }])).toEqual([]);
    }
  });

  it("a partition silent for `idle` of fed time stops holding the watermark back, and holds it again when it sends", async () => {
    const h = harness();
    const stage = await open(h, op("5s"));
    await processChunk(stage, [{ p: "b", t: 0 }]);
    const fired: number[] = [];
    for (let i = 1; i <= 8; i++) {
      await h.clock.advance(1000);
      const out = await processChunk(stage, [{ p: "a", t: i * 10 }]);
      fired.push(...out.map((r) => (r as { start: Date }).start.getTime()));
    }
    // b went idle after 5 s of a's chunks: windows up to a's max fire.
    expect(fired).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    // b sends again (behind): it holds the watermark once more; its record is too late for closed windows.
    await h.clock.advance(1000);
    expect(
      await processChunk(stage, [
        { p: "b", t: 75 },
        { p: "a", t: 200 },
      ]),
    ).toEqual([]);
    await h.clock.advance(1000);
    const out = await processChunk(stage, [{ p: "b", t: 95 }]);
    // The watermark never moves back (80); b's 75 was too late, b's 95 moves it to 95.
    expect(out.map((r) => (r as { start: Date }).start.getTime())).toEqual([80]);
    expect(h.dead.map((d) => (d.record as R).t)).toEqual([75]);
  });

  it("a stage stalled by backpressure (one long gap, then a burst) does not declare a partition idle", async () => {
    const h = harness();
    const stage = await open(h, op("5s"));
    await processChunk(stage, [{ p: "b", t: 0 }]);
    await h.clock.advance(10 * 60_000); // nothing arrived for ten minutes: the stage was not fed
    expect(await processChunk(stage, [{ p: "a", t: 100 }])).toEqual([]);
    expect(await processChunk(stage, [{ p: "b", t: 5 }])).toEqual([]);
    expect(h.dead).toEqual([]);
  });
});

describe("options and columns", () => {
  it("reducers compute what the built-in specs do not, and merge for sessions", async () => {
    const distinct = {
      init: (): string[] => [],
      add: (s: string[], r: { u: string }) => (s.includes(r.u) ? s : [...s, r.u]),
      merge: (a: string[], b: string[]) => [...new Set([...a, ...b])],
      result: (s: string[]) => s.length,
    };
    const h = harness();
    const stage = await open(
      h,
      window.session(5, {
        time: (r: { t: number; u: string }) => r.t,
        watermark: { outOfOrder: 100 },
        lateness: 0,
        aggregate: { users: distinct, n: "count" },
      }),
    );
    await processChunk(stage, [
      { u: "x", t: 0 },
      { u: "y", t: 15 },
      { u: "x", t: 10 },
      { u: "x", t: 5 },
    ]);
    expect(await stage.end?.()).toEqual([
      { key: null, start: new Date(0), end: new Date(20), users: 2, n: 4 },
    ]);
  });

  it("types output records: key, start, end and each column's value (a reducer's result)", () => {
    const op = window.tumbling("1m", {
      time: (r: { t: number; u: string }) => r.t,
      watermark: { outOfOrder: 0 },
      lateness: 0,
      aggregate: {
        n: "count",
        users: { init: () => 0, add: (s: number) => s + 1, result: (s: number) => `${s}` },
      },
    });
    type Out = typeof op extends Operator<{ t: number; u: string }, infer B> ? B : never;
    expectTypeOf<Out>().toExtend<{ key: unknown; start: Date; end: Date; n: number; users: string }>();
  });

  it("refuses unknown options, a missing lateness, a reducer without merge for sessions, every > size", () => {
    const base = { time: "t", watermark: { outOfOrder: 0 }, lateness: 0, aggregate: { n: "count" as const } };
    expect(() => window.tumbling("1m", { ...base, latenes: "1m" } as never)).toThrow(
      /unknown option "latenes"/,
    );
    expect(() => window.tumbling("1m", { ...base, lateness: undefined } as never)).toThrow(/lateness/);
    expect(() =>
      window.tumbling("1m", { ...base, watermark: { outOfOrder: 0, idel: "1s" } } as never),
    ).toThrow(ConfigError);
    expect(() =>
      window.session("1m", {
        ...base,
        aggregate: { s: { init: () => 0, add: (a: number) => a + 1 } },
      } as never),
    ).toThrow(/no merge function/);
    expect(() => window.sliding("1m", "2m", base as never)).toThrow(/every .* is longer than size/);
    expect(() => window.tumbling("0s", base as never)).toThrow(/more than 0/);
    expect(() => window.tumbling("1m", { ...base, aggregate: { n: ["median", "v"] } } as never)).toThrow(
      /unknown spec/,
    );
  });

  it("publishes window.progress at its interval: watermark, lag, open windows, late records, skew", async () => {
    const h = harness();
    const stage = await open(
      h,
      window.tumbling(10, {
        time: (r: { t: number }) => r.t,
        watermark: { outOfOrder: 5 },
        lateness: 0,
        aggregate: { n: "count" },
      }),
    );
    await processChunk(stage, [{ t: 12 }, { t: 30 }, { t: 3 }, { t: 24 }]);
    await h.clock.advance(1000);
    const [e] = h.eventsOf("window.progress");
    expect(e).toMatchObject({
      stage: "1:op",
      watermark: 25,
      maxEventTime: 30,
      lagMs: 5,
      openWindows: 2,
      late: 1,
      lateAccepted: 1,
      maxSkewMs: 27,
    });
    await h.clock.advance(5000);
    expect(h.eventsOf("window.progress")).toHaveLength(1); // nothing changed: nothing published
    await stage.close?.();
  });
});
