/**
 * Side outputs (`StageContext.sideOutput`), the engine's part of a window's
 * `late` sink: what a stage writes is cut where each checkpoint barrier
 * passes the stage — not when the main sink commits, which may be later
 * while the stage runs ahead — and committed with that checkpoint; a run
 * that crashed resumes its side sink from the checkpoint's token and ends
 * with exactly an uninterrupted run's side output and counts; misuse is a
 * clear error.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EventBus, type EventOf, pipeline, runPipeline } from "../../src/index.ts";
import { mapAsync } from "../../src/operators/index.ts";
import { makeOperator } from "../../src/operators/internal/operator.ts";
import type { Operator, Sink } from "../../src/pipeline/types.ts";
import { collect, ndjson } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";
import { probeSink, tempHome } from "../operators/probe-sink.ts";

const { home, cleanup } = tempHome("sluice-side-outputs-");
afterAll(cleanup);

/** Passes even numbers on and sends odd ones to the side output `odd`. */
function split(side: Sink<number>): Operator<number, number> {
  return makeOperator<number, number>("split", "many", (ctx) => {
    const odd = ctx.sideOutput("odd", side);
    return {
      type: "chunk",
      process(records) {
        const out: number[] = [];
        for (const n of records) {
          if (n % 2) odd.write(n);
          else out.push(n);
        }
        return out;
      },
    };
  });
}

/** A side sink that dead-letters multiples of 3. */
const picky = (): Sink<number> => ({
  ...probeSink<number>(),
  async open(ctx) {
    return {
      write(chunk) {
        for (const n of chunk.records)
          if (n % 3 === 0) ctx.deadLetter({ reason: "no multiples of 3", record: n });
      },
      commit: (id) => id,
      async close() {},
    };
  },
});

const N = 1000;
const numbers = Array.from({ length: N }, (_, i) => i);

describe("side outputs", () => {
  it("are cut where each barrier passes the stage, even when a later stream stage lets it run ahead", async () => {
    const side = probeSink<number>();
    const main = probeSink<number>();
    const bus = new EventBus();
    const cps: EventOf<"checkpoint">[] = [];
    bus.subscribe((e) => e.kind === "checkpoint" && cps.push(e));
    const s = await runPipeline(
      pipeline("side-cut", { checkpoint: { rows: 100 } })
        .from(iterable(numbers, { chunkSize: 10 }))
        .via(
          split(side),
          mapAsync(async (n: number) => new Promise<number>((r) => setTimeout(() => r(n), n % 7)), {
            concurrency: 8,
          }),
        )
        .to(main),
      { home, bus, sampleResources: false },
    );
    expect(s.status, s.error?.message).toBe("completed");
    expect(side.records).toEqual(numbers.filter((n) => n % 2));
    expect(side.commits).toEqual(cps.map((c) => c.id));
    expect(cps.length).toBeGreaterThanOrEqual(10);
    // Checkpoint k covers the first rowsIn inputs: exactly their odd numbers are in the side sink.
    expect(side.cuts).toEqual(cps.map((c) => Math.floor(c.rowsIn / 2)));
    expect(s).toMatchObject({ rowsIn: N, rowsOut: N / 2, deadLettered: 0, sideOutput: N / 2 });
    expect(s.stages.find((t) => t.stage === "1:split")).toMatchObject({
      rowsIn: N,
      rowsOut: N / 2,
      sideOutput: N / 2,
    });
  });

  it("a crashed run resumed from a checkpoint ends with exactly an uninterrupted run's side output and counts", async () => {
    const p = (items: () => Iterable<number>, dir: string) =>
      pipeline("side-resume", { checkpoint: { rows: 100 } })
        .from(iterable(items, { chunkSize: 25 }))
        .via(split(ndjson(join(dir, "odd.ndjson"))))
        .to(ndjson(join(dir, "even.ndjson")));
    const ref = join(home, "ref");
    const full = await runPipeline(
      p(() => numbers, ref),
      { home, sampleResources: false },
    );
    expect(full.status).toBe("completed");

    const dir = join(home, "crash");
    const bus = new EventBus();
    const cps: EventOf<"checkpoint">[] = [];
    bus.subscribe((e) => e.kind === "checkpoint" && cps.push(e));
    function* crashing() {
      yield* numbers.slice(0, 650);
      throw new Error("crash");
    }
    const crashed = await runPipeline(p(crashing, dir), { home, bus, sampleResources: false });
    expect(crashed.status).toBe("failed");
    const cp = cps.at(-2) as EventOf<"checkpoint">; // a mid-run checkpoint, records written after it
    expect(cp.operatorState.$sides).toMatchObject({ "1:split/odd": { rows: Math.floor(cp.rowsIn / 2) } });
    const resumed = await runPipeline(
      p(() => numbers, dir),
      {
        home,
        resume: { runId: cp.runId, checkpoint: cp },
        sampleResources: false,
      },
    );
    expect(resumed.status, resumed.error?.message).toBe("completed");
    expect(readFileSync(join(dir, "odd.ndjson"), "utf8")).toBe(readFileSync(join(ref, "odd.ndjson"), "utf8"));
    expect(readFileSync(join(dir, "even.ndjson"), "utf8")).toBe(
      readFileSync(join(ref, "even.ndjson"), "utf8"),
    );
    expect(resumed).toMatchObject({ rowsIn: N, rowsOut: N / 2, sideOutput: N / 2 });
    expect(resumed.sideOutputs).toEqual([
      {
        stage: "1:split",
        name: "odd",
        sink: `ndjson(${join(dir, "odd.ndjson")})`,
        target: join(dir, "odd.ndjson"),
        rows: N / 2,
      },
    ]);
  });

  it("a record the side sink dead-letters counts as dead-lettered, not as side output", async () => {
    const s = await runPipeline(
      pipeline("side-dead", { checkpoint: { rows: 100 } })
        .from(iterable(numbers, { chunkSize: 10 }))
        .via(split(picky()))
        .to(collect()),
      { home, sampleResources: false },
    );
    const rejected = numbers.filter((n) => n % 2 && n % 3 === 0).length;
    expect(s).toMatchObject({
      rowsIn: N,
      rowsOut: N / 2,
      deadLettered: rejected,
      sideOutput: N / 2 - rejected,
    });
    expect(s.sideOutputs?.[0].rows).toBe(N / 2 - rejected);
    const st = s.stages.find((t) => t.stage === "1:split");
    expect(st && st.rowsOut + st.deadLettered + st.sideOutput).toBe(N);
  });

  it("refuse what is not a sink, and a side output opened after the run started", async () => {
    const notSink = await runPipeline(
      pipeline("side-bad")
        .from(iterable([1]))
        .via(split("odd.ndjson" as unknown as Sink<number>))
        .to(collect()),
      { home, sampleResources: false },
    );
    expect(notSink.error?.message).toMatch(/1:split: side output "odd" is not a sink/);
    const late = await runPipeline(
      pipeline("side-late")
        .from(iterable([1]))
        .via(
          makeOperator<number, number>("lazy", "one", (ctx) => ({
            type: "chunk",
            process(records) {
              ctx.sideOutput("x", collect());
              return records;
            },
          })),
        )
        .to(collect()),
      { home, sampleResources: false },
    );
    expect(late.error?.message).toMatch(
      /side output "x" was opened after the run started: open it in make\(\)/,
    );
  });
});

describe("side sink letters across a resume", () => {
  it("checkpoint's sideOutput excludes records the side sink dead-lettered; resume equals uninterrupted", async () => {
    const p = (items: () => Iterable<number>) =>
      pipeline("side-dead-resume", { checkpoint: { rows: 100 } })
        .from(iterable(items, { chunkSize: 10 }))
        .via(split(picky()))
        .to(collect());
    const full = await runPipeline(
      p(() => numbers),
      { home, sampleResources: false },
    );
    const bus = new EventBus();
    const cps: EventOf<"checkpoint">[] = [];
    bus.subscribe((e) => e.kind === "checkpoint" && cps.push(e));
    function* crashing() {
      yield* numbers.slice(0, 650);
      throw new Error("crash");
    }
    const crashed = await runPipeline(p(crashing), { home, bus, sampleResources: false });
    expect(crashed.status).toBe("failed");
    const cp = cps.at(-1) as EventOf<"checkpoint">;
    const st = cp.stageTotals.find((t) => t.stage === "1:split");
    const sides = cp.operatorState.$sides as Record<string, { rows: number }>;
    expect(st?.sideOutput, "checkpoint stage sideOutput vs $sides rows").toBe(sides["1:split/odd"].rows);
    const resumed = await runPipeline(
      p(() => numbers),
      {
        home,
        resume: { runId: cp.runId, checkpoint: cp },
        sampleResources: false,
      },
    );
    expect(resumed.status).toBe("completed");
    expect({ side: resumed.sideOutput, dead: resumed.deadLettered }).toEqual({
      side: full.sideOutput,
      dead: full.deadLettered,
    });
  });
});
