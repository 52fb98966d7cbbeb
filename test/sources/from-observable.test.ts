import { defer, from, Observable, concat as rxConcat, range as rxRange, Subject, throwError } from "rxjs";
import { afterAll, describe, expect, it } from "vitest";
import { EventBus, type EventOf, pipeline, runPipeline, type SluiceEvent } from "../../src/index.ts";
import { tap } from "../../src/operators/index.ts";
import { fromObservable } from "../../src/sources/index.ts";
import { probeSink, tempHome } from "../operators/probe-sink.ts";

const { home, cleanup } = tempHome("sluice-from-observable-");
afterAll(cleanup);

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
/** Lets the event loop run once (not a sleep). */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("fromObservable", () => {
  it("reads a synchronous Observable into chunks of at most chunkSize", async () => {
    const sink = probeSink<number>();
    const s = await runPipeline(
      pipeline("obs-sync")
        .from(fromObservable(rxRange(0, 2500), { chunkSize: 1000 }))
        .to(sink),
      { home },
    );
    expect(s.status).toBe("completed");
    expect(sink.records).toEqual(range(2500));
    expect(sink.chunks.map((c) => c.length)).toEqual([1000, 1000, 500]);
  });

  it("reads a hot Subject as it emits, and ends when it completes", async () => {
    const subject = new Subject<string>();
    const sink = probeSink<string>();
    const run = runPipeline(pipeline("obs-hot").from(fromObservable(subject)).to(sink), { home });
    // Hot: what it emits before the run subscribes is gone, so wait for the subscription.
    while (!subject.observed) await tick();
    subject.next("a");
    subject.next("b");
    while (sink.records.length < 2) await tick();
    subject.next("c");
    subject.complete();
    const s = await run;
    expect(s.status).toBe("completed");
    expect(sink.records).toEqual(["a", "b", "c"]);
  });

  it('overflow "fail" fails the run after the buffered records', async () => {
    const sink = probeSink<number>();
    const s = await runPipeline(
      pipeline("obs-fail")
        .from(fromObservable(rxRange(0, 100), { buffer: 10, chunkSize: 4 }))
        .to(sink),
      { home },
    );
    expect(s.status).toBe("failed");
    expect(s.error?._tag).toBe("SourceError");
    expect(s.error?.message).toContain("buffer of 10 records overflowed");
    expect(sink.records).toEqual(range(10));
  });

  it('overflow "drop-newest" and "drop-oldest" dead-letter what they drop, and say so once', async () => {
    for (const overflow of ["drop-newest", "drop-oldest"] as const) {
      const bus = new EventBus();
      const events: SluiceEvent[] = [];
      bus.subscribe((e) => events.push(e));
      const sink = probeSink<number>();
      const s = await runPipeline(
        pipeline(`obs-${overflow}`)
          .from(fromObservable(rxRange(0, 100), { buffer: 10, overflow }))
          .to(sink),
        { home, bus },
      );
      expect(s.status).toBe("completed");
      expect(sink.records).toEqual(overflow === "drop-newest" ? range(10) : range(10, 90));
      expect(s.deadLettered).toBe(90);
      expect(s.rowsIn).toBe(s.rowsOut + s.filtered + s.deadLettered);
      const dead = events.filter((e): e is EventOf<"dead.letter"> => e.kind === "dead.letter");
      expect(dead.map((d) => d.record)).toEqual(overflow === "drop-newest" ? range(90, 10) : range(90));
      expect(dead[0].reason).toContain(`dropped by overflow policy ${overflow}`);
      const warnings = events.filter((e) => e.kind === "log" && e.level === "warn");
      expect(warnings).toHaveLength(1);
    }
  });

  it('overflow "block" bounds memory by pausing a replayable Observable', async () => {
    let subscriptions = 0;
    let written = 0;
    let maxAhead = 0;
    const producer = defer(() => {
      subscriptions++;
      return new Observable<number>((sub) => {
        for (let i = 0; i < 5000 && !sub.closed; i++) {
          maxAhead = Math.max(maxAhead, i - written);
          sub.next(i);
        }
        sub.complete();
      });
    });
    const sink = probeSink<number>();
    const s = await runPipeline(
      pipeline("obs-block")
        .from(fromObservable(producer, { buffer: 200, chunkSize: 50, overflow: "block", replayable: true }))
        .via(
          tap(() => {
            written++;
          }),
        )
        .to(sink),
      { home },
    );
    expect(s.status).toBe("completed");
    expect(s.deadLettered).toBe(0);
    expect(sink.records).toEqual(range(5000));
    expect(subscriptions).toBeGreaterThan(10);
    // Never more than the buffer (plus the chunk on its way) ahead of the pipeline.
    expect(maxAhead).toBeLessThanOrEqual(200 + 50);
  });

  it('refuses "block" without replayable, and bad options', () => {
    expect(() => fromObservable(from([1]), { overflow: "block" })).toThrow(/needs replayable: true/);
    expect(() => fromObservable(from([1]), { buffer: 0 })).toThrow(/buffer/);
    expect(() => fromObservable({} as never)).toThrow(/expected an RxJS Observable/);
  });

  it("fails with the Observable's error after the records before it", async () => {
    const sink = probeSink<number>();
    const s = await runPipeline(
      pipeline("obs-error")
        .from(
          fromObservable(
            rxConcat(
              from([1, 2, 3]),
              throwError(() => new Error("socket closed")),
            ),
          ),
        )
        .to(sink),
      { home },
    );
    expect(s.status).toBe("failed");
    expect(s.error?._tag).toBe("SourceError");
    expect(s.error?.message).toContain("socket closed");
    expect(sink.records).toEqual([1, 2, 3]);
  });

  it("resumes a replayable Observable after the checkpoint's index", async () => {
    const checkpoints: Array<EventOf<"checkpoint">> = [];
    const make = () =>
      pipeline("obs-resume", { checkpoint: { rows: 300 } }).from(
        fromObservable(rxRange(0, 1000), { chunkSize: 100, replayable: true }),
      );
    await runPipeline(make().to(probeSink()), {
      home,
      onCheckpoint: async (c) => {
        checkpoints.push(c);
      },
    });
    expect(checkpoints[1].sourceOffset).toEqual({ index: 600 });
    const sink = probeSink<number>();
    const s = await runPipeline(make().to(sink), {
      home,
      resume: { runId: checkpoints[1].runId, checkpoint: checkpoints[1] },
    });
    expect(s.status).toBe("completed");
    expect(sink.records).toEqual(range(400, 600));
  });
});
