/**
 * Issue 16 item 6: a stop waits for chunks on workers only `drainTimeout`;
 * past it (a worker in a busy loop) the workers are stopped and the run ends
 * interrupted with a `CancelledError` that says what happened and what to do.
 * On a virtual clock: the deadline is the clock's, not the wall's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pipeline, runPipeline } from "../../src/index.ts";
import { parallelMap } from "../../src/operators/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";
import { VirtualClock } from "../../src/testing/virtual-clock.ts";
import type { Rec } from "../fixtures/workers/behave.ts";

const home = mkdtempSync(join(tmpdir(), "sluice-pmap-drain-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const fixture = new URL("../fixtures/workers/behave.ts", import.meta.url);
const realWait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A run whose first record busy-loops on its worker; the stop comes as the source reads on. */
function stuckRun(drainTimeout?: "5s") {
  const stop = new AbortController();
  function* records(): Generator<Rec> {
    yield { op: "hang", v: 0 };
    stop.abort();
    for (let i = 1; i < 10; i++) yield { op: "ok", v: i };
  }
  const p = pipeline("drain", { checkpoint: { rows: 1 } })
    .from(iterable(records, { chunkSize: 1 }))
    .via(
      parallelMap<Rec, number>(fixture, {
        workers: 1,
        timeout: false,
        ...(drainTimeout ? { drainTimeout } : {}),
      }),
    )
    .to(collect<number>());
  return { p, stop };
}

describe("parallelMap drainTimeout", () => {
  it.each([
    [undefined, 30_000],
    ["5s" as const, 5_000],
  ])(
    "drainTimeout %s: a stop ends the run at the deadline, interrupted, the stuck records named",
    async (drainTimeout, ms) => {
      const clock = new VirtualClock(0);
      const { p, stop } = stuckRun(drainTimeout);
      let settled = false;
      const run = runPipeline(p, { home, clock, signal: stop.signal }).finally(() => {
        settled = true;
      });
      for (let i = 0; i < 500 && !stop.signal.aborted; i++) await realWait(10);
      expect(stop.signal.aborted).toBe(true);
      // Just short of the deadline the run still waits for the worker.
      await clock.advance(ms - 1);
      await realWait(200);
      expect(settled).toBe(false);
      await clock.advance(1);
      const summary = await Promise.race([run, realWait(20_000).then(() => undefined)]);
      expect(summary, "the run did not end at the drain deadline").toBeDefined();
      expect(summary!.status).toBe("interrupted");
      expect(summary!.error?._tag).toBe("CancelledError");
      expect(summary!.error?.message).toMatch(
        new RegExp(
          `stage \\S*parallelMap: 1 chunk\\(s\\) \\(1 records\\) were still on workers ${ms} ms after the stop request`,
        ),
      );
      expect(summary!.error?.hint).toMatch(/resumes from its last checkpoint.*drainTimeout/);
    },
    60_000,
  );

  it("rejects a drainTimeout that is not a duration", () => {
    expect(() => parallelMap(fixture, { drainTimeout: "soon" as "1s" })).toThrow(/drainTimeout/);
  });
});
