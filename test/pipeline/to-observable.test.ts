import { firstValueFrom, lastValueFrom, take, toArray } from "rxjs";
import { afterAll, describe, expect, it } from "vitest";
import { pipeline, type RunSummary, toObservable } from "../../src/index.ts";
import { filter, map, rx } from "../../src/operators/index.ts";
import { fromObservable, iterable } from "../../src/sources/index.ts";
import { tempHome } from "../operators/probe-sink.ts";

const { home, cleanup } = tempHome("sluice-to-observable-");
afterAll(cleanup);

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("toObservable", () => {
  it("emits the pipeline's records and completes", async () => {
    const p = pipeline("to-obs")
      .from(iterable(range(3000), { chunkSize: 100 }))
      .via(
        map((n: number) => n * 2),
        filter((n: number) => n % 3 === 0),
      );
    const out = await lastValueFrom(toObservable(p, { home }).pipe(toArray()));
    expect(out).toEqual(
      range(3000)
        .map((n) => n * 2)
        .filter((n) => n % 3 === 0),
    );
  });

  it("stops the run when the subscriber unsubscribes", async () => {
    let summary: RunSummary | undefined;
    const done = new Promise<void>((resolve) => {
      const p = pipeline("to-obs-cancel").from(iterable(range(1_000_000), { chunkSize: 100 }));
      const obs = toObservable(p, {
        home,
        onSummary: (s) => {
          summary = s;
          resolve();
        },
      });
      firstValueFrom(obs.pipe(take(5), toArray())).then((first) => expect(first).toEqual(range(5)));
    });
    await done;
    expect(summary?.status).toBe("interrupted");
    expect(summary?.rowsIn).toBeLessThan(1_000_000);
  });

  it("errors with the run's error", async () => {
    const p = pipeline("to-obs-error", { onError: "fail" })
      .from(iterable([1, 2, 3]))
      .via(
        map((n: number) => {
          if (n === 2) throw new Error("two");
          return n;
        }),
      );
    await expect(lastValueFrom(toObservable(p, { home }))).rejects.toMatchObject({ _tag: "StageError" });
  });

  it("round-trips Observable -> pipeline with an RxJS stage -> Observable", async () => {
    const { range: rxRange, bufferCount } = await import("rxjs");
    const p = pipeline("to-obs-roundtrip")
      .from(fromObservable(rxRange(1, 5)))
      .via(rx(bufferCount<number>(2)));
    expect(await lastValueFrom(toObservable(p, { home }).pipe(toArray()))).toEqual([[1, 2], [3, 4], [5]]);
  });
});
