/**
 * Only a completed run's dead letters are redriven: a run that may still be resumed (stopped,
 * crashed, failed) is refused with a hint, since its resume cuts the dead-letter file back to the
 * last checkpoint and letters those rows again, which lost the redriven records.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { redrive } from "../../src/dlq/redrive.ts";
import { pipeline } from "../../src/index.ts";
import { runJournaled } from "../../src/journal/run-journal.ts";
import { map } from "../../src/operators/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-redrive-guard-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const numbers = Array.from({ length: 3000 }, (_, i) => i);
/** Letters every multiple of 7 (`fixed`: none); stops the run at `stopAt` when given a controller. */
const p = (fixed: boolean, stop?: { controller: AbortController; at: number }) =>
  pipeline("guarded", { checkpoint: { rows: 100 } })
    .from(iterable(numbers, { chunkSize: 50 }))
    .via(
      map((n: number) => {
        if (stop && n === stop.at) stop.controller.abort();
        if (!fixed && n % 7 === 0) throw new Error(`no multiples of 7: ${n}`);
        return n;
      }),
    )
    .to(collect());

describe("redrive of a run that has not completed", () => {
  it("is refused with a hint until the run is resumed to the end; then it redrives", async () => {
    const home = join(root, "h1");
    const controller = new AbortController();
    const stopped = await runJournaled(p(false, { controller, at: 1500 }), {
      home,
      signal: controller.signal,
      sampleResources: false,
    });
    expect(stopped.status).toBe("interrupted");
    await expect(redrive({ run: stopped.runId, pipeline: p(true), home })).rejects.toMatchObject({
      _tag: "StateError",
      message: expect.stringMatching(
        /has not completed \(interrupted\): its dead letters cannot be redriven yet/,
      ),
      hint: expect.stringMatching(new RegExp(`sluice resume ${stopped.runId}`)),
    });
    const resumed = await runJournaled(p(false), { home, sampleResources: false });
    expect(resumed).toMatchObject({ runId: stopped.runId, status: "completed", deadLettered: 429 });
    const r = await redrive({ run: stopped.runId, pipeline: p(true), home });
    expect(r.settled).toMatchObject({ redriven: 429, dead: 0 });
    expect(r.counts).toEqual({ total: 429, redriven: 429, dead: 0 });
  });

  it("a failed run is refused too (it can still be resumed by its id)", async () => {
    const home = join(root, "h2");
    function* crashing() {
      yield* numbers.slice(0, 1000);
      throw new Error("source broke");
    }
    const failed = await runJournaled(
      pipeline("guarded", { checkpoint: { rows: 100 } })
        .from(iterable(crashing, { chunkSize: 50 }))
        .via(
          map((n: number) => {
            if (n % 7 === 0) throw new Error(`no multiples of 7: ${n}`);
            return n;
          }),
        )
        .to(collect()),
      { home, sampleResources: false },
    );
    expect(failed.status).toBe("failed");
    await expect(redrive({ run: failed.runId, pipeline: p(true), home })).rejects.toMatchObject({
      message: expect.stringMatching(/has not completed \(failed\)/),
    });
  });
});
