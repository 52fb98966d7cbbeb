/**
 * A run's figures across a stop or a crash and a resume: each checkpoint holds
 * every stage as the barrier passed it (not as it stood when the sink
 * committed, with records after the barrier counted, which the resume counts
 * again), its dead letters as many as the file holds; so the resumed run's
 * `deadLettered` and `rowsIn` equal the input's, as the file does. (A CSV
 * stopped and resumed: `dead-letter-cut.test.ts`.)
 */
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { type EventOf, type Pipeline, pipeline, runPipeline } from "../../src/index.ts";
import { mapAsync } from "../../src/operators/index.ts";
import { makeOperator } from "../../src/operators/internal/operator.ts";
import type { Operator } from "../../src/pipeline/types.ts";
import { probeSink, tempHome } from "../operators/probe-sink.ts";
import { checkpointBus, expectConsistent, numbers, resumeFrom as resumeWith } from "./resume-fixtures.ts";

const { home, cleanup } = tempHome("sluice-resume-counts-");
afterAll(cleanup);

function letterOdd(crashAt?: number): Operator<number, number> {
  return makeOperator<number, number>("letter-odd", "many", (ctx) => ({
    type: "chunk",
    process(records) {
      const out: number[] = [];
      for (const n of records) {
        if (n === crashAt) throw new Error("crash");
        if (n % 2) ctx.deadLetter({ reason: "odd", record: n });
        else out.push(n);
      }
      return out;
    },
  }));
}

const lines = (file: string) => readFileSync(file, "utf8").trim().split("\n");
const byStage = (
  stages: readonly { stage: string; rowsIn: number; rowsOut: number; deadLettered: number }[],
) => Object.fromEntries(stages.map((t) => [t.stage, [t.rowsIn, t.rowsOut, t.deadLettered]]));

const resumeFrom = <A>(p: Pipeline<A>, cp: EventOf<"checkpoint">) => resumeWith(home, p, cp);

describe("run figures across a resume", () => {
  it("crash + resume: a chunk stage running ahead: run figures exact", async () => {
    const N = 4000;
    const p = (crashAt?: number) =>
      pipeline("hb-crash-stage", { checkpoint: { rows: 100 }, onError: "fail" })
        .from(numbers(N))
        .via(
          letterOdd(),
          mapAsync(
            async (n: number) => {
              if (n === crashAt) throw new Error("crash");
              if (n % 50 === 0) await new Promise((r) => setTimeout(r, 2));
              return n;
            },
            { concurrency: 1 },
          ),
        )
        .to(probeSink<number>());
    const { bus, cps } = checkpointBus();
    const crashed = await runPipeline(p(3000), { home, bus, sampleResources: false });
    expect(crashed.status).toBe("failed");
    expectConsistent(cps);
    const cp = cps.at(-1) as EventOf<"checkpoint">;
    const resumed = await resumeFrom(p(), cp);
    expect(resumed.status, resumed.error?.message).toBe("completed");
    expect(lines(resumed.deadLetterFile as string)).toHaveLength(N / 2);
    expect(resumed.deadLettered).toBe(N / 2);
    expect(byStage(resumed.stages)).toEqual({
      source: [N, N, 0],
      "1:letter-odd": [N, N / 2, N / 2],
      "2:mapAsync": [N / 2, N / 2, 0],
      sink: [N / 2, N / 2, 0],
    });
  });

  it("crash + resume: a stream stage's letters: file and run figures exact", async () => {
    const N = 4000;
    const p = (crashAt?: number) =>
      pipeline("hb-crash-stream", { checkpoint: { rows: 100 }, onError: "dead-letter" })
        .from(numbers(N))
        .via(
          mapAsync(
            async (n: number) => {
              await new Promise((r) => setTimeout(r, n % 2 === 0 && n % 7 === 0 ? 3 : 0));
              if (n % 2) throw new Error("odd");
              return n;
            },
            { concurrency: 16 },
          ),
          letterOdd(crashAt),
        )
        .to(probeSink<number>());
    const { bus, cps } = checkpointBus();
    const crashed = await runPipeline(p(3000), { home, bus, sampleResources: false });
    expect(crashed.status).toBe("failed");
    expectConsistent(cps);
    const cp = cps.at(-1) as EventOf<"checkpoint">;
    const resumed = await resumeFrom(p(), cp);
    expect(resumed.status, resumed.error?.message).toBe("completed");
    const got = lines(resumed.deadLetterFile as string).map((l) => JSON.parse(l).record as number);
    expect(new Set(got).size).toBe(N / 2);
    expect(got).toHaveLength(N / 2);
    expect(resumed.deadLettered).toBe(N / 2);
    expect(byStage(resumed.stages)).toEqual({
      source: [N, N, 0],
      "1:mapAsync": [N, N / 2, N / 2],
      "2:letter-odd": [N / 2, N / 2, 0],
      sink: [N / 2, N / 2, 0],
    });
  });
});
