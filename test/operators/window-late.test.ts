/**
 * The `late` option of the windows (issue 17): too-late records go to the
 * named sink as `LateRecord`s — the record, the window it missed and the
 * reason — and none to the dead letter; the sink is cut at each checkpoint
 * barrier and committed with the checkpoint; the counts reconcile (summary,
 * stage totals, events); a bad `late` is a clear `ConfigError`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderSummary } from "../../src/cli/commands/run.ts";
import { EventBus, type EventOf, pipeline, runPipeline, type SluiceEvent } from "../../src/index.ts";
import { type LateRecord, window } from "../../src/operators/index.ts";
import { ConfigError } from "../../src/pipeline/errors.ts";
import type { Sink } from "../../src/pipeline/types.ts";
import { collect, ndjson } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";
import { VirtualClock } from "../../src/testing/virtual-clock.ts";
import { probeSink, tempHome } from "./probe-sink.ts";
import { drive, harness, open, processChunk } from "./stage-harness.ts";

const { home, cleanup } = tempHome("sluice-window-late-");
afterAll(cleanup);

const T = Date.parse("2026-01-01T00:00:00Z");
const at = (s: number) => new Date(T + s * 1000).toISOString();
interface Order {
  id: number;
  ts: string;
  category: string;
  amount: number;
}

/** The example, with a second too-late record (id 10). */
const orders: Order[] = [
  { id: 1, ts: at(5), category: "books", amount: 10 },
  { id: 2, ts: at(50), category: "games", amount: 5 },
  { id: 3, ts: at(70), category: "books", amount: 7 },
  { id: 4, ts: at(40), category: "books", amount: 1 }, // out of order, within the bound
  { id: 5, ts: at(130), category: "games", amount: 2 },
  { id: 6, ts: at(250), category: "books", amount: 3 }, // watermark → 220 s
  { id: 7, ts: at(59), category: "books", amount: 100 }, // window [0,60) closed at 180 s: too late
  { id: 8, ts: at(100), category: "games", amount: 4 }, // window [60,120) held until 240 s: joins
  { id: 9, ts: "not a time", category: "books", amount: 1 },
  { id: 10, ts: at(61), category: "games", amount: 9 }, // [60,120) was held until 240 s, watermark 220: joins
  { id: 11, ts: at(400), category: "games", amount: 1 }, // watermark → 370 s
  { id: 12, ts: at(110), category: "games", amount: 6 }, // [60,120) closed at 240 s: too late
];

const options = <A extends Order>(late?: Sink<LateRecord<A>>) => ({
  time: (o: A) => o.ts,
  watermark: { outOfOrder: "30s" as const },
  lateness: "2m" as const,
  key: (o: A) => o.category,
  aggregate: { n: "count" as const, revenue: ["sum", "amount"] as const },
  ...(late ? { late } : {}),
});

const expectedLate = [
  {
    id: 7,
    key: "books",
    start: at(0),
    end: at(60),
    lateByMs: 161_000,
    reason: `late by 2m41s: event time ${at(59)} arrived at watermark ${at(220)}, after its window [${at(0)}, ${at(60)}) of key "books" closed (end + lateness 2m)`,
  },
  {
    id: 12,
    key: "games",
    start: at(60),
    end: at(120),
    lateByMs: 260_000,
    reason: `late by 4m20s: event time ${at(110)} arrived at watermark ${at(370)}, after its window [${at(60)}, ${at(120)}) of key "games" closed (end + lateness 2m)`,
  },
];

const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : d);
const lateView = (l: LateRecord<Order>) => ({
  id: l.record.id,
  key: l.key,
  start: iso(l.start),
  end: iso(l.end),
  lateByMs: l.lateByMs,
  reason: l.reason,
});

describe("window late sink, one stage on virtual time", () => {
  it("sends too-late records to the late side output with their window and reason, none to the dead letter", async () => {
    const h = harness();
    const stage = await open(h, window.tumbling("1m", options(probeSink())));
    for (let i = 0; i < orders.length; i += 2) {
      await h.clock.advance(100);
      await processChunk(stage, orders.slice(i, i + 2));
    }
    const late = (h.sides.late ?? []) as LateRecord<Order>[];
    expect(late.map(lateView)).toEqual(expectedLate);
    expect(late[0]).toMatchObject({
      eventTime: new Date(at(59)),
      watermark: new Date(at(220)),
      stage: "1:op",
      record: orders[6],
    });
    expect(h.dead.map((d) => (d.record as Order).id)).toEqual([9]); // only the unreadable time
    await stage.close?.();
    const progress = h.eventsOf("window.progress");
    expect(progress.reduce((n, e) => n + e.late, 0)).toBe(2);
  });
});

describe("window late sink in a pipeline", () => {
  it("cuts the late sink at each checkpoint, commits it with the run, and the counts reconcile (virtual clock)", async () => {
    const clock = new VirtualClock(T);
    const late = probeSink<LateRecord<Order>>();
    const main = probeSink<Record<string, unknown>>();
    const bus = new EventBus();
    const events: SluiceEvent[] = [];
    bus.subscribe((e) => void events.push(e));
    const s = await drive(
      clock,
      runPipeline(
        pipeline("late-probe", { checkpoint: { rows: 2, every: "1h" } })
          .from(iterable(orders, { chunkSize: 2 }))
          .via(window.tumbling("1m", options(late)))
          .to(main),
        { home, bus, clock, sampleResources: false },
      ),
    );
    expect(s.status, s.error?.message).toBe("completed");
    expect(late.records.map(lateView)).toEqual(expectedLate);
    // Committed with every checkpoint of the run, each holding exactly the late records before its barrier:
    // id 7 is in the 4th input chunk, id 12 in the 6th.
    expect(late.commits).toEqual(main.commits);
    const cps = events.filter((e): e is EventOf<"checkpoint"> => e.kind === "checkpoint");
    expect(cps.map((c) => c.id)).toEqual(main.commits);
    expect(cps.length).toBeGreaterThanOrEqual(6);
    const rowsAt = cps.map((c) => c.rowsIn);
    expect(late.cuts).toEqual(rowsAt.map((n) => (n >= 12 ? 2 : n >= 8 ? 1 : 0)));
    expect(cps.at(-1)?.operatorState.$sides).toEqual({
      "1:window.tumbling/late": { token: cps.at(-1)?.id, rows: 2 },
    });

    const dead = events.filter((e): e is EventOf<"dead.letter"> => e.kind === "dead.letter");
    expect(dead.map((d) => (d.record as Order).id)).toEqual([9]);
    expect(s).toMatchObject({ rowsIn: 12, rowsOut: 7, deadLettered: 1, sideOutput: 2 });
    expect(s.sideOutputs).toEqual([{ stage: "1:window.tumbling", name: "late", sink: "probe()", rows: 2 }]);
    const w = s.stages.find((t) => t.stage === "1:window.tumbling");
    expect(w).toMatchObject({ rowsIn: 12, deadLettered: 1, sideOutput: 2 });
    // Every record in the window stage: aggregated, dead-lettered or sent to the late sink.
    const aggregated = main.records.reduce((n, r) => n + (r.n as number), 0);
    expect(aggregated + (w?.deadLettered ?? 0) + (w?.sideOutput ?? 0)).toBe(w?.rowsIn);
    const ended = events.find((e): e is EventOf<"run.ended"> => e.kind === "run.ended");
    expect(ended?.sideOutput).toBe(2);
    const progress = events.filter((e): e is EventOf<"stage.progress"> => e.kind === "stage.progress");
    expect(progress.reduce((n, e) => n + (e.sideOutput ?? 0), 0)).toBe(2);
    expect(cps.at(-1)?.stageTotals.find((t) => t.stage === "1:window.tumbling")?.sideOutput).toBe(2);
  });

  it("writes LateRecords to an NDJSON late sink, published only when the run completes; the summary names it", async () => {
    const path = join(home, "out", "late.ndjson");
    const out = collect<Record<string, unknown>>();
    const s = await runPipeline(
      pipeline("late-file")
        .from(iterable(orders, { chunkSize: 3 }))
        .via(window.tumbling("1m", options(ndjson(path))))
        .to(out),
      { home, sampleResources: false },
    );
    expect(s.status).toBe("completed");
    const lines = readFileSync(path, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => lateView(l))).toEqual(expectedLate);
    expect(lines[0]).toMatchObject({
      record: orders[6],
      eventTime: at(59),
      watermark: at(220),
      stage: "1:window.tumbling",
    });
    expect(s.sideOutputs?.[0]).toMatchObject({ name: "late", rows: 2, target: path });
    const dl = s.deadLetterFile ? readFileSync(s.deadLetterFile, "utf8") : "";
    expect(dl).not.toMatch(/late by/);
    expect(existsSync(`${path}.${s.runId}.part`)).toBe(false);
    const text = renderSummary(s);
    expect(text).toMatch(/dead-lettered 1 · 2 to side output\n/);
    expect(text).toContain(`  late (1:window.tumbling): 2 → ${path}`);
  });

  it("without late, too-late records go to the dead letter as before (nothing counted as side output)", async () => {
    const s = await runPipeline(
      pipeline("late-default").from(iterable(orders)).via(window.tumbling("1m", options())).to(collect()),
      { home, sampleResources: false },
    );
    expect(s).toMatchObject({ deadLettered: 3, sideOutput: 0 });
    expect(s.sideOutputs).toBeUndefined();
    expect(renderSummary(s)).not.toMatch(/side output/);
  });
});

describe("a bad late option", () => {
  const bad = (late: unknown) => () =>
    window.sliding("2m", "1m", { ...options(), late } as unknown as ReturnType<typeof options>);

  it("is a ConfigError naming the field and showing what to pass", () => {
    expect(bad("late.ndjson")).toThrow(ConfigError);
    expect(bad("late.ndjson")).toThrow(
      /window\.sliding\(\): invalid options: late: must be a sink such as ndjson\("out\/late\.ndjson"\).*got the string "late\.ndjson": wrap a path in a sink, e\.g\. ndjson\("late\.ndjson"\)/,
    );
    expect(bad({ path: "x" })).toThrow(/late: must be a sink .*got an object that is not a sink/);
    expect(bad(42)).toThrow(/late: must be a sink .*got a number/);
    expect(bad(null)).toThrow(/late: must be a sink .*got null/);
  });

  it("the same sink twice in one stage is refused when the run opens it", async () => {
    const s = await runPipeline(
      pipeline("late-twice")
        .from(iterable([1]))
        .via({
          ...window.tumbling("1m", { ...options(), time: () => 0 }),
          make: (ctx) => {
            ctx.sideOutput("late", collect());
            ctx.sideOutput("late", collect());
            throw new Error("unreachable");
          },
        })
        .to(collect()),
      { home, sampleResources: false },
    );
    expect(s.status).toBe("failed");
    expect(s.error?.message).toMatch(/1:window\.tumbling: side output "late" is opened twice/);
  });
});
