/**
 * Adaptive configuration in a real run, on the virtual clock: a stage whose
 * time per chunk is its rows times a fixed cost (it advances the clock), so
 * the controller sees chunks over the latency target and lowers the source
 * chunk size, with `config.changed` events journaled; the output equals a
 * non-adaptive run's, and an adaptive run interrupted after the change
 * resumes to the same output.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EventBus } from "../../src/events/bus.ts";
import type { EventOf } from "../../src/events/schema.ts";
import { runJournaled } from "../../src/journal/run-journal.ts";
import { readRunEvents } from "../../src/journal/runs.ts";
import { adaptive } from "../../src/metrics/adaptive-plugin.ts";
import { pipeline } from "../../src/pipeline/pipeline.ts";
import { runPipeline } from "../../src/pipeline/run.ts";
import { type Operator, OperatorTypeId } from "../../src/pipeline/types.ts";
import { ndjson } from "../../src/sinks/ndjson.ts";
import { iterable } from "../../src/sources/iterable.ts";
import { VirtualClock } from "../../src/testing/virtual-clock.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-adaptive-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const dir = join(root, `t${n++}`);
  return { home: join(dir, ".s"), out: join(dir, "out.ndjson") };
};

const rows = Array.from({ length: 30_000 }, (_, i) => ({ i, v: (i * 7919) % 1000 }));

/** Takes `msPerRow` of (virtual) time per record, and aborts the run after `stopAfter` records. */
function slow(
  clock: VirtualClock,
  msPerRow: number,
  stop?: { controller: AbortController; after: number },
): Operator<unknown, unknown> {
  let seen = 0;
  return {
    [OperatorTypeId]: true,
    name: "slow",
    cardinality: "one",
    make: () => ({
      type: "chunk",
      async process(records) {
        await clock.advance(records.length * msPerRow);
        seen += records.length;
        if (stop && seen >= stop.after) stop.controller.abort();
        return (records as Array<{ i: number; v: number }>).map((r) => ({ ...r, w: r.v * 2 }));
      },
    }),
  };
}

const definition = (
  clock: VirtualClock,
  out: string,
  stop?: { controller: AbortController; after: number },
) =>
  pipeline("adaptive", {
    checkpoint: { rows: 2000 },
    adaptive: { warmup: "2s", cooldown: "2s", targetLatency: "100ms", chunkRows: { min: 50, max: 5000 } },
  })
    .from(iterable(rows, { chunkSize: 1000 }))
    .via(slow(clock, 0.5, stop)) // 500 ms per 1000-row chunk: five times the target
    .to(ndjson(out));

const changesOf = (bus: EventBus) => {
  const changes: Array<EventOf<"config.changed">> = [];
  bus.subscribe((e) => {
    if (e.kind === "config.changed") changes.push(e);
  });
  return changes;
};

describe("adaptive runs", () => {
  it("lower the source chunk size over the latency target; output equals a non-adaptive run's", async () => {
    const plain = fresh();
    const off = await runPipeline(definition(new VirtualClock(), plain.out), {
      home: plain.home,
      clock: new VirtualClock(),
      sampleResources: false,
    });
    const a = fresh();
    const clock = new VirtualClock();
    const bus = new EventBus();
    const changes = changesOf(bus);
    const on = await runPipeline(definition(clock, a.out), {
      home: a.home,
      clock,
      bus,
      plugins: [adaptive()],
      sampleResources: false,
    });
    expect(off.status).toBe("completed");
    expect(on.status).toBe("completed");
    expect(changes.length).toBeGreaterThan(0);
    expect(changes[0]).toMatchObject({ stage: "source", setting: "chunk.rows", from: 1000 });
    expect(changes[0].to).toBeLessThan(1000);
    expect(changes[0].reason).toMatch(/p99 chunk latency of \d+ ms, over the 100 ms target/);
    for (const c of changes) expect(c.to).toBeGreaterThanOrEqual(50);
    expect(readFileSync(a.out, "utf8")).toBe(readFileSync(plain.out, "utf8"));
    expect(on.rowsOut).toBe(rows.length);
  });

  it("a non-adaptive run changes nothing", async () => {
    const a = fresh();
    const clock = new VirtualClock();
    const bus = new EventBus();
    const changes = changesOf(bus);
    await runPipeline(definition(clock, a.out), { home: a.home, clock, bus, sampleResources: false });
    expect(changes).toEqual([]);
  });

  it("journals the changes; an adaptive run interrupted after a change resumes to the same output", async () => {
    const ref = fresh();
    await runPipeline(definition(new VirtualClock(), ref.out), {
      home: ref.home,
      clock: new VirtualClock(),
      sampleResources: false,
    });
    const a = fresh();
    const controller = new AbortController();
    const clock = new VirtualClock();
    const first = await runJournaled(definition(clock, a.out, { controller, after: 17_321 }), {
      home: a.home,
      clock,
      signal: controller.signal,
      plugins: [adaptive()],
      sampleResources: false,
    });
    expect(first.status).toBe("interrupted");
    const journaled: Array<EventOf<"config.changed">> = [];
    for await (const { event } of readRunEvents(first.runDir))
      if (event.kind === "config.changed") journaled.push(event);
    expect(journaled.length).toBeGreaterThan(0); // the chunk size changed before the stop
    const clock2 = new VirtualClock();
    const second = await runJournaled(definition(clock2, a.out), {
      home: a.home,
      clock: clock2,
      plugins: [adaptive()],
      sampleResources: false,
    });
    expect(second.runId).toBe(first.runId);
    expect(second.status).toBe("completed");
    expect(readFileSync(a.out, "utf8")).toBe(readFileSync(ref.out, "utf8"));
  });
});
