import { getEventListeners } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EventBus, pipeline, runCollect, runPipeline, type SluiceEvent } from "../../src/index.ts";
import { filter, flatMap, map, tap } from "../../src/operators/index.ts";
import { collect, ndjson } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";

const home = mkdtempSync(join(tmpdir(), "sluice-run-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("runPipeline", () => {
  it("leaves no listener on a signal shared by many runs", async () => {
    const stop = new AbortController();
    for (let i = 0; i < 12; i++) {
      const s = await runPipeline(
        pipeline("shared-signal")
          .from(iterable([1, 2, 3]))
          .to(collect()),
        {
          home,
          signal: stop.signal,
        },
      );
      expect(s.status).toBe("completed");
    }
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);
  });

  it("maps, filters and counts so that in = out + filtered + dead-lettered", async () => {
    const out = collect<number>();
    const p = pipeline("nums")
      .from(
        iterable(
          Array.from({ length: 10_000 }, (_, i) => i),
          { chunkSize: 256 },
        ),
      )
      .via(
        map((n: number) => {
          if (n % 1000 === 7) throw new Error(`bad ${n}`);
          return n * 2;
        }),
        filter((n: number) => n % 3 !== 0),
      )
      .to(out);
    const s = await runPipeline(p, { home });
    expect(s.status).toBe("completed");
    expect(s.rowsIn).toBe(10_000);
    expect(s.deadLettered).toBe(10);
    const expected = Array.from({ length: 10_000 }, (_, i) => i)
      .filter((n) => n % 1000 !== 7)
      .map((n) => n * 2)
      .filter((n) => n % 3 !== 0);
    expect(out.records).toEqual(expected);
    expect(s.rowsOut).toBe(expected.length);
    expect(s.rowsIn).toBe(s.rowsOut + s.filtered + s.deadLettered);
    const dl = readFileSync(s.deadLetterFile!, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(dl).toHaveLength(10);
    expect(dl[0]).toMatchObject({ stage: "1:map", record: 7, attempts: 1 });
    expect(dl[0].reason).toContain("bad 7");
  });

  it("runs async and Effect-returning functions, flatMap and tap", async () => {
    const { Effect } = await import("effect");
    const seen: number[] = [];
    const records = await runCollect(
      pipeline("async")
        .from(iterable([1, 2, 3]))
        .via(
          map(async (n: number) => n + 1),
          map((n: number) => Effect.succeed(n * 10)),
          flatMap((n: number) => [n, n + 1]),
          tap((n: number) => {
            seen.push(n);
          }),
        ),
      { home },
    );
    expect(records).toEqual([20, 21, 30, 31, 40, 41]);
    expect(seen).toEqual(records);
  });

  it("publishes run, stage, checkpoint and dead-letter events", async () => {
    const bus = new EventBus();
    const events: SluiceEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const p = pipeline("ev", { checkpoint: { rows: 100 } })
      .from(
        iterable(
          Array.from({ length: 1000 }, (_, i) => i),
          { chunkSize: 50 },
        ),
      )
      .via(map((n: number) => (n === 5 ? JSON.parse("{") : n)))
      .to(collect());
    const s = await runPipeline(p, { home, bus });
    const kinds = new Set(events.map((e) => e.kind));
    expect(kinds).toContain("run.started");
    expect(kinds).toContain("run.ended");
    expect(kinds).toContain("stage.progress");
    expect(kinds).toContain("dead.letter");
    const cps = events.filter((e) => e.kind === "checkpoint");
    expect(cps.length).toBe(s.checkpoints);
    expect(cps.length).toBeGreaterThanOrEqual(10);
    const stageRows = events
      .filter((e) => e.kind === "stage.progress" && e.stage === "1:map")
      .reduce((a, e) => a + (e.kind === "stage.progress" ? e.rowsIn : 0), 0);
    expect(stageRows).toBe(1000);
  });

  it("writes an NDJSON file atomically", async () => {
    const path = join(home, "out", "x.ndjson");
    const s = await runPipeline(
      pipeline("file")
        .from(iterable([{ a: 1 }, { a: 2 }]))
        .to(ndjson(path)),
      { home },
    );
    expect(s.status).toBe("completed");
    expect(readFileSync(path, "utf8")).toBe('{"a":1}\n{"a":2}\n');
    expect(s.output).toBe(path);
  });

  it("reports a failing run in the summary with onError: fail", async () => {
    const p = pipeline("failing", { onError: "fail" })
      .from(iterable([1, 2, 3]))
      .via(
        map((n: number) => {
          if (n === 2) throw new Error("boom");
          return n;
        }),
      )
      .to(collect());
    const s = await runPipeline(p, { home });
    expect(s.status).toBe("failed");
    expect(s.error?._tag).toBe("StageError");
    expect(s.error?.message).toContain("boom");
  });
});

describe("pipeline options", () => {
  it("a run's run.started carries the pipeline's alert rules (what alert engines on its bus evaluate)", async () => {
    const alerts = { rules: { deadLetterRate: { warning: 0.02, critical: 0.5 } } };
    const seen: SluiceEvent[] = [];
    const bus = new EventBus();
    bus.subscribe((e) => seen.push(e));
    await runPipeline(
      pipeline("with-rules", { alerts })
        .from(iterable([1, 2, 3]))
        .to(collect()),
      { home, bus },
    );
    await runPipeline(
      pipeline("without-rules")
        .from(iterable([1]))
        .to(collect()),
      { home, bus },
    );
    const started = seen.filter((e) => e.kind === "run.started");
    expect(started.map((e) => [e.pipeline, e.kind === "run.started" ? e.alerts : null])).toEqual([
      ["with-rules", alerts],
      ["without-rules", undefined],
    ]);
  });

  it("checks the alerts option when the pipeline is defined, with where and what to do", () => {
    const ok = pipeline("alerts-ok", {
      alerts: { rules: { p99LatencyMs: { warning: 200, critical: 800 } } },
    });
    expect(ok.name).toBe("alerts-ok");
    const bad = () =>
      pipeline("alerts-bad", { alerts: { rules: { p99LatencyMs: { warning: 900, critical: 100 } } } });
    expect(bad).toThrow(
      /pipeline "alerts-bad": Invalid metrics setting alerts\.rules\.p99LatencyMs: critical \(100\) must be ≥ warning \(900\)/,
    );
    try {
      bad();
    } catch (e) {
      expect((e as { _tag?: string })._tag).toBe("ConfigError");
      expect((e as { hint?: string }).hint).toMatch(/docs\/metrics\.md/);
    }
    const unknown = () =>
      pipeline("alerts-typo")
        .from(iterable([1]))
        // @ts-expect-error: not a rule name
        .withOptions({ alerts: { rules: { p99Latency: { warning: 1 } } } });
    expect(unknown).toThrow(/pipeline "alerts-typo": Invalid metrics setting alerts\.rules/);
  });
});
