import { bufferCount, mergeMap, filter as rxFilter, map as rxMap, scan, take } from "rxjs";
import { afterAll, describe, expect, it } from "vitest";
import { pipeline, runCollect, runPipeline } from "../../src/index.ts";
import { map, rx } from "../../src/operators/index.ts";
import { iterable } from "../../src/sources/index.ts";
import { probeSink, tempHome } from "./probe-sink.ts";

const { home, cleanup } = tempHome("sluice-rx-");
afterAll(cleanup);

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("rx", () => {
  it("runs a stateless RxJS operator chain as stages", async () => {
    const out = await runCollect(
      pipeline("rx-map")
        .from(iterable(range(5000), { chunkSize: 128 }))
        .via(
          rx(rxMap((n: number) => n * 3)),
          rx(rxFilter((n: number) => n % 2 === 0)),
          map((n: number) => n + 1),
        ),
      { home },
    );
    expect(out).toEqual(
      range(5000)
        .map((n) => n * 3)
        .filter((n) => n % 2 === 0)
        .map((n) => n + 1),
    );
  });

  it('onBarrier "pass": state carries across checkpoints; a barrier follows what was emitted', async () => {
    const sink = probeSink<number[]>();
    const s = await runPipeline(
      pipeline("rx-pass", { checkpoint: { rows: 10 } })
        .from(iterable(range(40), { chunkSize: 5 }))
        .via(rx(bufferCount<number>(3)))
        .to(sink),
      { home },
    );
    expect(s.status).toBe("completed");
    // Whole buffers of three across checkpoint boundaries; the partial one at the end.
    expect(sink.records).toEqual([...range(13).map((k) => [3 * k, 3 * k + 1, 3 * k + 2]), [39]]);
    // Barriers after rows 10, 20, 30, 40: the buffers completed by then (9, 18, 30, 39 rows).
    expect(sink.commits).toEqual([1, 2, 3, 4, 5]);
    expect(sink.cuts).toEqual([3, 6, 10, 13, 14]);
  });

  it('onBarrier "complete": each checkpoint covers exactly the records before it', async () => {
    const sink = probeSink<number[]>();
    const s = await runPipeline(
      pipeline("rx-complete", { checkpoint: { rows: 10 } })
        .from(iterable(range(40), { chunkSize: 5 }))
        .via(rx(bufferCount<number>(3), { onBarrier: "complete" }))
        .to(sink),
      { home },
    );
    expect(s.status).toBe("completed");
    const upTo = (k: number) => sink.records.slice(0, sink.cuts[k]).flat();
    for (let k = 0; k < 4; k++) expect(upTo(k)).toEqual(range(10 * (k + 1)));
    // The buffer restarts at each checkpoint: a partial [9] closes the first interval.
    expect(sink.records.slice(0, sink.cuts[0])).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
  });

  it('onBarrier "complete" waits for async work before the barrier', async () => {
    const sink = probeSink<number>();
    const s = await runPipeline(
      pipeline("rx-async", { checkpoint: { rows: 50 } })
        .from(iterable(range(300), { chunkSize: 25 }))
        .via(
          rx(
            mergeMap(async (n: number) => {
              for (let i = 0; i < n % 7; i++) await Promise.resolve();
              return n;
            }, 8),
            { onBarrier: "complete" },
          ),
        )
        .to(sink),
      { home },
    );
    expect(s.status).toBe("completed");
    expect(sink.cuts).toEqual([50, 100, 150, 200, 250, 300, 300]);
    for (let k = 0; k < 6; k++) {
      expect(sink.records.slice(50 * k, 50 * (k + 1)).sort((a, b) => a - b)).toEqual(
        range(50).map((i) => 50 * k + i),
      );
    }
  });

  it('keeps running totals with scan in "pass" mode', async () => {
    const out = await runCollect(
      pipeline("rx-scan", { checkpoint: { rows: 3 } })
        .from(iterable(range(10), { chunkSize: 2 }))
        .via(rx(scan((acc: number, n: number) => acc + n, 0))),
      { home },
    );
    expect(out).toEqual([0, 1, 3, 6, 10, 15, 21, 28, 36, 45]);
  });

  it("drops records after the operator completes (take)", async () => {
    const out = await runCollect(
      pipeline("rx-take")
        .from(iterable(range(100), { chunkSize: 10 }))
        .via(rx(take<number>(15))),
      { home },
    );
    expect(out).toEqual(range(15));
  });

  it("fails the run when the operator errors", async () => {
    const s = await runPipeline(
      pipeline("rx-error")
        .from(iterable(range(10)))
        .via(
          rx(
            rxMap((n: number) => {
              if (n === 4) throw new Error("four");
              return n;
            }),
          ),
        )
        .to(probeSink()),
      { home },
    );
    expect(s.status).toBe("failed");
    expect(s.error?._tag).toBe("StageError");
    expect(s.error?.message).toContain("four");
  });
});
