import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EventBus, type EventOf, pipeline, runCollect, runPipeline } from "../../src/index.ts";
import { aggregate, dedupe } from "../../src/operators/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";

const home = mkdtempSync(join(tmpdir(), "sluice-stateful-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const rows = Array.from({ length: 5000 }, (_, i) => ({ id: i % 1234, cat: `c${i % 7}`, amount: i % 100 }));

describe("dedupe", () => {
  it("keeps the first record of each key and counts the rest as filtered", async () => {
    const out = collect<(typeof rows)[number]>();
    const s = await runPipeline(
      pipeline("dd")
        .from(iterable(rows, { chunkSize: 100 }))
        .via(dedupe((r) => r.id))
        .to(out),
      { home },
    );
    expect(out.records.map((r) => r.id)).toEqual(Array.from({ length: 1234 }, (_, i) => i));
    expect(s.filtered).toBe(5000 - 1234);
    expect(s.rowsIn).toBe(s.rowsOut + s.filtered + s.deadLettered);
  });

  it("resumes from a checkpoint snapshot without re-emitting", async () => {
    // Run a prefix, take its last checkpoint, resume over the full input.
    const bus = new EventBus();
    const cps: EventOf<"checkpoint">[] = [];
    bus.subscribe((e) => e.kind === "checkpoint" && cps.push(e));
    const firstOut = collect<(typeof rows)[number]>();
    const p = (items: typeof rows, out: ReturnType<typeof collect<(typeof rows)[number]>>) =>
      pipeline("dd2", { checkpoint: { rows: 500 } })
        .from(iterable(items, { chunkSize: 100 }))
        .via(dedupe((r) => r.id))
        .to(out);
    // The first attempt crashes after 2000 rows (its state stays for a resume).
    function* crashing() {
      yield* rows.slice(0, 2000);
      throw new Error("crash");
    }
    const pCrash = pipeline("dd2", { checkpoint: { rows: 500 } })
      .from(iterable(crashing, { chunkSize: 100 }))
      .via(dedupe((r) => r.id))
      .to(firstOut);
    expect((await runPipeline(pCrash, { home, bus })).status).toBe("failed");
    const cp = cps.filter((c) => c.sourceOffset !== undefined).at(-2)!; // a mid-run checkpoint
    const before = firstOut.records.length;
    const resumed = collect<(typeof rows)[number]>();
    const r = await runPipeline(p(rows, resumed), { home, resume: { runId: cp.runId, checkpoint: cp } });
    expect(r.status, r.error?.message).toBe("completed");
    const index = (cp.sourceOffset as { index: number }).index;
    const emittedBefore = new Set(rows.slice(0, index).map((r) => r.id));
    expect(before).toBeGreaterThan(0);
    expect(resumed.records.every((r) => !emittedBefore.has(r.id))).toBe(true);
    expect(emittedBefore.size + resumed.records.length).toBe(1234);
  });
});

describe("aggregate", () => {
  it("computes count/sum/min/max/avg per key at end of input", async () => {
    const out = await runCollect(
      pipeline("agg")
        .from(iterable(rows, { chunkSize: 333 }))
        .via(
          aggregate({
            key: (r) => r.cat,
            aggregate: {
              n: "count",
              total: ["sum", "amount"],
              lo: ["min", "amount"],
              hi: ["max", "amount"],
              mean: ["avg", "amount"],
            },
          }),
        ),
      { home },
    );
    expect(out).toHaveLength(7);
    for (const g of out) {
      const members = rows.filter((r) => r.cat === g.key);
      const total = members.reduce((a, r) => a + r.amount, 0);
      expect(g).toEqual({
        key: g.key,
        n: members.length,
        total,
        lo: Math.min(...members.map((r) => r.amount)),
        hi: Math.max(...members.map((r) => r.amount)),
        mean: total / members.length,
      });
    }
  });

  it("restores accumulators from a checkpoint so resumed totals are exact", async () => {
    const bus = new EventBus();
    const cps: EventOf<"checkpoint">[] = [];
    bus.subscribe((e) => e.kind === "checkpoint" && cps.push(e));
    const p = (items: () => Iterable<(typeof rows)[number]>) =>
      pipeline("agg2", { checkpoint: { rows: 1000 } })
        .from(iterable(items, { chunkSize: 250 }))
        .via(aggregate({ key: (r) => r.cat, aggregate: { total: ["sum", "amount"], n: "count" } }));
    const full = await runCollect(p(() => rows));
    // An attempt that crashes after 3000 rows, resumed from its checkpoint at row 2000.
    function* crashing() {
      yield* rows.slice(0, 3000);
      throw new Error("crash");
    }
    await expect(runCollect(p(crashing), { home, bus })).rejects.toThrow(/crash/);
    const mid = cps.find((c) => (c.sourceOffset as { index: number } | undefined)?.index === 2000)!;
    expect(mid).toBeDefined();
    const resumed = await runCollect(
      p(() => rows),
      { home, resume: { runId: mid.runId, checkpoint: mid } },
    );
    expect(resumed).toEqual(full);
  });

  it("rejects unknown specs with a clear message", () => {
    expect(() => aggregate<{ a: number }, never>({ aggregate: { x: ["median", "a"] } as never })).toThrow(
      /unknown spec.*Use|unknown spec/,
    );
  });
});
