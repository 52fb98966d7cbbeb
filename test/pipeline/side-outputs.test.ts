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

/** `picky`, committing a moment later (so a stage after `split` runs checkpoints ahead of the sink). */
const slowPicky = (): Sink<number> => ({
  ...picky(),
  async open(ctx) {
    const w = await picky().open(ctx);
    return { ...w, commit: async (id: number) => new Promise((r) => setTimeout(() => r(id), 2)) };
  },
});

/** Each checkpoint's `split` figures that do not reconcile, or whose side output is not `$sides`'s. */
function unreconciled(cps: Array<EventOf<"checkpoint">>): string[] {
  const bad: string[] = [];
  for (const cp of cps) {
    const st = cp.stageTotals.find((t) => t.stage === "1:split");
    const sides = cp.operatorState.$sides as Record<string, { rows: number }>;
    const side = st?.sideOutput ?? 0;
    if (
      !st ||
      st.rowsIn !== st.rowsOut + st.filtered + st.deadLettered + side ||
      side !== sides["1:split/odd"].rows
    )
      bad.push(`checkpoint ${cp.id}: ${JSON.stringify(st)}, $sides ${sides["1:split/odd"].rows}`);
  }
  return bad;
}

describe("side sink letters across a resume", () => {
  const many = Array.from({ length: 2000 }, (_, i) => i);
  // A stage after `split` that waits now and then lets `split` run checkpoints ahead of the sink:
  // the side sink then letters records `split` counted as side output at several cuts.
  const ahead = mapAsync(
    async (n: number) => {
      if (n % 20 === 0) await new Promise((r) => setTimeout(r, 3));
      return n;
    },
    { concurrency: 16 },
  );
  it.each([
    ["the sink right after the stage", 100, false],
    ["a slow stage after it (checkpoint every 10 rows)", 10, true],
    ["a slow stage after it (checkpoint every 100 rows)", 100, true],
  ])(
    "%s: every checkpoint's side output excludes the side sink's letters; resume equals uninterrupted",
    async (_, rows, slow) => {
      const p = (items: () => Iterable<number>) => {
        const source = pipeline("side-dead-resume", { checkpoint: { rows } }).from(
          iterable(items, { chunkSize: 10 }),
        );
        return (slow ? source.via(split(slowPicky()), ahead) : source.via(split(picky()))).to(collect());
      };
      const bus = new EventBus();
      const all: EventOf<"checkpoint">[] = [];
      bus.subscribe((e) => e.kind === "checkpoint" && all.push(e));
      const full = await runPipeline(
        p(() => many),
        { home, bus, sampleResources: false },
      );
      expect(unreconciled(all)).toEqual([]);
      const cps: EventOf<"checkpoint">[] = [];
      const crashBus = new EventBus();
      crashBus.subscribe((e) => e.kind === "checkpoint" && cps.push(e));
      function* crashing() {
        yield* many.slice(0, 1300);
        throw new Error("crash");
      }
      const crashed = await runPipeline(p(crashing), { home, bus: crashBus, sampleResources: false });
      expect(crashed.status).toBe("failed");
      expect(unreconciled(cps)).toEqual([]);
      const cp = cps.at(-1) as EventOf<"checkpoint">;
      const resumed = await runPipeline(
        p(() => many),
        {
          home,
          resume: { runId: cp.runId, checkpoint: cp },
          sampleResources: false,
        },
      );
      expect(resumed.status).toBe("completed");
      const figures = (r: typeof full) => ({
        in: r.rowsIn,
        out: r.rowsOut,
        side: r.sideOutput,
        dead: r.deadLettered,
      });
      expect(figures(resumed)).toEqual(figures(full));
      expect(full.sideOutput).toBe(667);
    },
  );
});
