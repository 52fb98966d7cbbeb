import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EventBus, pipeline, runPipeline, type SluiceEvent } from "../../src/index.ts";
import { parallelMap } from "../../src/operators/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";
import type { Rec } from "../fixtures/workers/behave.ts";

const home = mkdtempSync(join(tmpdir(), "sluice-pmap-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const fixture = (f: string) => new URL(`../fixtures/workers/${f}`, import.meta.url);

describe("parallelMap", () => {
  it("maps on workers in order; N poison records give exactly N dead letters with attempts = max", async () => {
    const records: Rec[] = Array.from({ length: 3000 }, (_, i) => ({
      op: i % 700 === 11 ? "throw" : "ok",
      v: i,
    }));
    const bus = new EventBus();
    const events: SluiceEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const out = collect<number>();
    const p = pipeline("pmap", { checkpoint: { rows: 500 } })
      .from(iterable(records, { chunkSize: 250 }))
      .via(
        parallelMap<Rec, number>(fixture("behave.ts"), {
          workers: 2,
          retries: 2,
          backoff: { initial: 1, max: 5 },
        }),
      )
      .to(out);
    const s = await runPipeline(p, { home, bus });
    expect(s.status, s.error?.message).toBe("completed");
    const poison = records.filter((r) => r.op === "throw");
    expect(s.deadLettered).toBe(poison.length);
    expect(out.records).toEqual(records.filter((r) => r.op === "ok").map((r) => r.v * 2));
    expect(s.rowsIn).toBe(s.rowsOut + s.deadLettered);
    const dl = readFileSync(s.deadLetterFile!, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(dl).toHaveLength(poison.length);
    for (const d of dl) expect(d.attempts).toBe(3);
    expect(dl.map((d) => d.record.v)).toEqual(poison.map((r) => r.v));
    // Lifecycle and stats events reach the bus.
    expect(events.some((e) => e.kind === "worker.lifecycle" && e.action === "started")).toBe(true);
    // worker.stats counters are per-interval deltas: they add up to the records done.
    const stats = events.filter((e) => e.kind === "worker.stats");
    expect(stats.length).toBeGreaterThan(0);
    const completed = stats.reduce((a, e) => a + (e.kind === "worker.stats" ? e.completed : 0), 0);
    expect(completed).toBe(records.length - poison.length);
    // Every checkpoint was taken with nothing on the workers: commits only at chunk boundaries.
    expect(s.checkpoints).toBeGreaterThan(3);
  });

  it("a worker that exits costs only that worker; the record is dead-lettered and the run goes on", async () => {
    const records: Rec[] = Array.from({ length: 200 }, (_, i) => ({ op: i === 50 ? "exit" : "ok", v: i }));
    const out = collect<number>();
    const s = await runPipeline(
      pipeline("pmap-exit")
        .from(iterable(records, { chunkSize: 50 }))
        .via(
          parallelMap<Rec, number>(fixture("behave.ts"), {
            workers: 2,
            retries: 1,
            backoff: { initial: 1, max: 2 },
          }),
        )
        .to(out),
      { home },
    );
    expect(s.status, s.error?.message).toBe("completed");
    expect(s.deadLettered).toBe(1);
    expect(out.records).toHaveLength(199);
  });

  it("a module without a default-exported function fails before any record is read", async () => {
    let pulled = 0;
    const s = await runPipeline(
      pipeline("pmap-bad")
        .from(
          iterable(() =>
            (function* () {
              for (let i = 0; i < 10; i++) {
                pulled++;
                yield i;
              }
            })(),
          ),
        )
        .via(parallelMap(fixture("not-a-function.ts"), { workers: 1 }))
        .to(collect()),
      { home },
    );
    expect(s.status).toBe("failed");
    expect(s.error?.message).toMatch(/not-a-function|default export|function/i);
    expect(pulled).toBe(0);
  });

  it("unordered output has every record and keeps barriers fenced", async () => {
    const records = Array.from({ length: 2000 }, (_, i) => i);
    const out = collect<number>();
    const s = await runPipeline(
      pipeline("pmap-unordered", { checkpoint: { rows: 400 } })
        .from(iterable(records, { chunkSize: 100 }))
        .via(parallelMap<number, number>(fixture("double.ts"), { workers: 2, ordered: false }))
        .to(out),
      { home },
    );
    expect(s.status, s.error?.message).toBe("completed");
    expect([...out.records].sort((a, b) => a - b)).toEqual(records.map((x) => x * 2));
    expect(out.commits.length).toBe(s.checkpoints);
  });
});
