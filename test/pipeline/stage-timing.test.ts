/**
 * Busy time and chunk latency mean the same for wrapper and worker stages as
 * for the others: a wrapped mapAsync is timed once (the wrapper's chunk), not
 * once by the wrapper and again by the stage inside it; parallelMap counts
 * the time with chunks on the pool once however many overlap. The checks are
 * structural (a count of chunks; busy time within the measured interval), not
 * timing guesses.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { countProgress, emptyCounts, type StageCounts } from "../../src/events/internal/progress-fold.ts";
import { EventBus, type Operator, pipeline, runPipeline, type SluiceEvent } from "../../src/index.ts";
import { boundBy } from "../../src/metrics/bound.ts";
import { mapAsync, parallelMap, retry } from "../../src/operators/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";

const home = mkdtempSync(join(tmpdir(), "sluice-stage-timing-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Runs one stage over `n` records in chunks of `chunk`; its summed progress and interval time. */
async function stageSums(name: string, op: Operator<number, number>, n: number, chunk: number) {
  const bus = new EventBus();
  const events: SluiceEvent[] = [];
  bus.subscribe((e) => {
    events.push(e);
  });
  const s = await runPipeline(
    pipeline(name)
      .from(
        iterable(
          Array.from({ length: n }, (_, i) => i),
          { chunkSize: chunk },
        ),
      )
      .via(op)
      .to(collect()),
    { home, bus },
  );
  expect(s.status).toBe("completed");
  const sums: StageCounts & { intervalMs: number; latencyCount: number } = {
    ...emptyCounts(),
    intervalMs: 0,
    latencyCount: 0,
  };
  for (const e of events) {
    if (e.kind !== "stage.progress" || e.index !== 1) continue;
    countProgress(sums, e);
    sums.intervalMs += e.intervalMs;
    sums.latencyCount += e.latency.count;
  }
  return sums;
}

describe("stage timing", () => {
  it("a wrapped mapAsync is timed once, as the wrapper's chunks; its CPU time says it waits", async () => {
    const sleepy = mapAsync(
      async (x: number) => {
        await new Promise((r) => setTimeout(r, 2));
        return x;
      },
      { concurrency: 4 },
    );
    const s = await stageSums("wrapped", retry({ attempts: 2 }, sleepy), 200, 20);
    expect(s.rowsIn).toBe(200);
    expect(s.chunks).toBe(10);
    expect(s.latencyCount).toBe(10);
    expect(s.busyMs).toBeLessThanOrEqual(s.intervalMs);
    expect(s.cpuMs).toBeDefined();
    expect(boundBy(s.busyMs, s.cpuMs)).toBe("io");
  });

  it("parallelMap counts overlapping chunks' time once; its CPU runs on workers (not measured here)", async () => {
    // CPU-heavy records on 2 workers with 16 chunks in flight: chunks wait on the pool together.
    const op = parallelMap<number, number>(new URL("../fixtures/adaptive/heavy.ts", import.meta.url), {
      workers: 2,
      inFlight: 16,
    });
    const s = await stageSums("pooled", op, 4000, 100);
    expect(s.rowsIn).toBe(4000);
    expect(s.latencyCount).toBe(40);
    expect(s.busyMs).toBeGreaterThan(0);
    expect(s.busyMs).toBeLessThanOrEqual(s.intervalMs);
    expect(s.cpuMs).toBeUndefined();
  });
});
