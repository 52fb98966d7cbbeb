/**
 * The dead-letter file's length in a checkpoint covers exactly the records
 * before its barrier: a stage (the source too) goes on working while the
 * barrier travels to the sink, and its letters for later records must not be
 * counted in that checkpoint, or a run resumed from it letters them twice.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import * as Stream from "effect/Stream";
import { afterAll, describe, expect, it } from "vitest";
import { type EventOf, type Pipeline, pipeline, runPipeline } from "../../src/index.ts";
import { mapAsync } from "../../src/operators/index.ts";
import { makeOperator } from "../../src/operators/internal/operator.ts";
import type { Chunk } from "../../src/pipeline/chunk.ts";
import {
  type Operator,
  type Sink,
  SinkTypeId,
  type Source,
  type SourceContext,
  SourceTypeId,
} from "../../src/pipeline/types.ts";
import { ndjson } from "../../src/sinks/index.ts";
import { csv, parquet } from "../../src/sources/index.ts";
import { probeSink, tempHome } from "../operators/probe-sink.ts";
import {
  badCsv,
  type CsvRow,
  checkpointBus,
  expectConsistent,
  numbers,
  resumeFrom as resumeWith,
  schema,
} from "./resume-fixtures.ts";

const { home, cleanup } = tempHome("sluice-dl-cut-");
afterAll(cleanup);

/** Dead-letters odd numbers and passes even ones on. */
function letterOdd(): Operator<number, number> {
  return makeOperator<number, number>("letter-odd", "many", (ctx) => ({
    type: "chunk",
    process(records) {
      const out: number[] = [];
      for (const n of records) {
        if (n % 2) ctx.deadLetter({ reason: "odd", record: n });
        else out.push(n);
      }
      return out;
    },
  }));
}

/** Waits a few ms on some records, so the stages before it run ahead of the barrier. */
const slow = <A>() =>
  mapAsync(async (x: A) => new Promise<A>((r) => setTimeout(() => r(x), Math.random() < 0.05 ? 3 : 0)), {
    concurrency: 1,
  });

/** A side sink that dead-letters every record it is given (as a sink does a value its table cannot hold). */
function refusingSink(): Sink<number> {
  return {
    [SinkTypeId]: true,
    name: "refuse()",
    delivery: "at-least-once",
    async open(ctx) {
      return {
        write(chunk) {
          for (const r of chunk.records) ctx.deadLetter({ reason: "refused", record: r });
        },
        commit: (id: number) => id,
        async close() {},
      };
    },
  };
}

/** Odd numbers to a side output whose sink letters them all; even ones on. */
function oddToSide(): Operator<number, number> {
  return makeOperator<number, number>("odd-side", "many", (ctx) => {
    const side = ctx.sideOutput("odd", refusingSink());
    return {
      type: "chunk",
      process(records) {
        const out: number[] = [];
        for (const n of records)
          if (n % 2) side.write(n);
          else out.push(n);
        return out;
      },
    };
  });
}

const lettered = (cp: EventOf<"checkpoint">) =>
  (cp.operatorState.$deadLetter as { count: number; bytes: number }).count;

const lines = (file: string) => readFileSync(file, "utf8").trim().split("\n");

/** The input line of each letter in a dead-letter file. */
const letteredLines = (file: string) =>
  lines(file).map((l) => (JSON.parse(l) as { position: { line: number } }).position.line);

const resumeFrom = <A>(p: Pipeline<A>, cp: EventOf<"checkpoint">) => resumeWith(home, p, cp);

describe("dead letters and checkpoints", () => {
  it("a stage's letters are cut where each barrier passes it, even when it runs ahead of the sink", async () => {
    const N = 2000;
    const { bus, cps } = checkpointBus();
    const s = await runPipeline(
      pipeline("dl-cut-stage", { checkpoint: { rows: 100 } })
        .from(numbers(N))
        .via(letterOdd(), slow<number>())
        .to(probeSink<number>()),
      { home, bus, sampleResources: false },
    );
    expect(s.status, s.error?.message).toBe("completed");
    expect(cps.length).toBeGreaterThanOrEqual(10);
    // Checkpoint k covers the first rowsIn inputs: exactly their odd numbers were lettered.
    expect(cps.map(lettered)).toEqual(cps.map((c) => Math.floor(c.rowsIn / 2)));
    expect(s.deadLettered).toBe(N / 2);
    expect(lines(s.deadLetterFile as string)).toHaveLength(N / 2);
  });

  it("a run resumed after a crash letters each bad row of its input once (source letters)", async () => {
    const { file, badBefore, bad } = badCsv(home, "orders.csv");
    const p = (out: string, crashAt?: number) =>
      pipeline("dl-cut-resume", { checkpoint: { rows: 2_000 }, onError: "fail" })
        .from(csv(file, { header: true, schema }))
        .via(
          mapAsync(
            async (r: CsvRow) => {
              if (r.id === crashAt) throw new Error("crash");
              if (r.id % 500 === 0) await new Promise((res) => setTimeout(res, 2));
              return r;
            },
            { concurrency: 1 },
          ),
        )
        .to(ndjson(out));
    const { bus, cps } = checkpointBus();
    const out = join(home, "out.ndjson");
    const crashed = await runPipeline(p(out, 30_000), { home, bus, sampleResources: false });
    expect(crashed.status).toBe("failed");
    const cp = cps.at(-1) as EventOf<"checkpoint">;
    // The checkpoint counts the bad rows among the rows before its barrier, no more.
    expect(lettered(cp)).toBe(badBefore((cp.sourceOffset as { line: number }).line));
    const resumed = await resumeFrom(p(out), cp);
    expect(resumed.status, resumed.error?.message).toBe("completed");
    const letters = letteredLines(resumed.deadLetterFile as string);
    expect(new Set(letters).size).toBe(bad);
    expect(letters).toHaveLength(bad);
    expect(resumed.deadLettered).toBe(bad);
  });

  it("a side sink's letters, made while their checkpoint commits, are counted in it", async () => {
    const N = 1000;
    const { bus, cps } = checkpointBus();
    const s = await runPipeline(
      pipeline("dl-cut-side", { checkpoint: { rows: 100 } })
        .from(numbers(N))
        .via(oddToSide())
        .to(probeSink<number>()),
      { home, bus, sampleResources: false },
    );
    expect(s.status, s.error?.message).toBe("completed");
    expect(cps.map(lettered)).toEqual(cps.map((c) => Math.floor(c.rowsIn / 2)));
    expect(lines(s.deadLetterFile as string)).toHaveLength(N / 2);
  });

  it("a stream stage (mapAsync, 16 at once) letters records on both sides of a barrier: each counted in its own checkpoint", async () => {
    const N = 2000;
    const { bus, cps } = checkpointBus();
    const s = await runPipeline(
      pipeline("dl-cut-stream", { checkpoint: { rows: 100 } })
        .from(numbers(N))
        .via(
          mapAsync(
            async (n: number) => {
              // Even numbers sometimes wait, so odd ones after the barrier fail before it passes the stage.
              await new Promise((r) => setTimeout(r, n % 2 === 0 && n % 7 === 0 ? 5 : 0));
              if (n % 2) throw new Error("odd");
              return n;
            },
            { concurrency: 16 },
          ),
        )
        .to(probeSink<number>()),
      { home, bus, sampleResources: false },
    );
    expect(s.status, s.error?.message).toBe("completed");
    expect(cps.length).toBeGreaterThanOrEqual(10);
    expect(cps.map(lettered)).toEqual(cps.map((c) => Math.floor(c.rowsIn / 2)));
    expect(lines(s.deadLetterFile as string)).toHaveLength(N / 2);
  });

  it("a run stopped (Ctrl-C) and resumed letters each bad row once: the stop drops a parsed chunk, and its letters", async () => {
    const { file, badBefore, bad, total } = badCsv(home, "stop.csv");
    const stop = new AbortController();
    const p = (stopAt?: number) =>
      pipeline("dl-cut-stop", { checkpoint: { rows: 2_000 } })
        .from(csv(file, { header: true, schema }))
        .via(
          mapAsync(
            async (r: CsvRow) => {
              if (r.id === stopAt) stop.abort();
              if (r.id % 500 === 0) await new Promise((res) => setTimeout(res, 2));
              return r;
            },
            { concurrency: 1 },
          ),
        )
        .to(ndjson(join(home, "stop.ndjson")));
    const { bus, cps } = checkpointBus();
    const stopped = await runPipeline(p(5_000), { home, bus, signal: stop.signal, sampleResources: false });
    expect(stopped.status).toBe("interrupted");
    expectConsistent(cps);
    const cp = cps.at(-1) as EventOf<"checkpoint">;
    expect(lettered(cp)).toBe(badBefore((cp.sourceOffset as { line: number }).line));
    const resumed = await resumeFrom(p(), cp);
    expect(resumed.status, resumed.error?.message).toBe("completed");
    const letters = letteredLines(resumed.deadLetterFile as string);
    expect(new Set(letters).size).toBe(bad);
    expect(letters).toHaveLength(bad);
    // The run's figures too: the stop's checkpoint counted neither the dropped pull's letters nor
    // the records the source read past the barrier (14,746 letters and 41,413 rows in before).
    expect([resumed.rowsIn, resumed.rowsOut, resumed.deadLettered]).toEqual([total, total - bad, bad]);
  });

  it("a source that yields many chunks per pull: its letters go with the barrier after the pull", async () => {
    // A custom source built the plain way: Effect hands on up to 4096 chunks of an iterable per pull.
    const source = {
      [SourceTypeId]: true,
      name: "lettering",
      open(ctx: SourceContext) {
        function* chunks(): Generator<Chunk<number>> {
          for (let i = 0, seq = 0; i < 1000; i += 10) {
            const records: number[] = [];
            for (let k = i; k < i + 10; k++)
              if (k % 2) ctx.deadLetter({ reason: "odd", record: k });
              else records.push(k);
            yield {
              records,
              seq: seq++,
              start: { index: i },
              end: { index: i + 10 },
              bytes: 0,
              createdAt: 0,
            };
          }
        }
        return Stream.fromIterable(chunks());
      },
    } as unknown as Source<number>;
    const { bus, cps } = checkpointBus();
    const s = await runPipeline(
      pipeline("dl-cut-pull", { checkpoint: { rows: 100 } })
        .from(source)
        .to(probeSink()),
      {
        home,
        bus,
        sampleResources: false,
      },
    );
    expect(s.status, s.error?.message).toBe("completed");
    // Each checkpoint holds the letters of the records before its offset: one odd per even.
    expect(cps.map(lettered)).toEqual(cps.map((c) => (c.sourceOffset as { index: number }).index / 2));
    expect(lines(s.deadLetterFile as string)).toHaveLength(500);
  });

  it("a stop during the pull that ends the source: what that pull lettered is lettered once, after resume", async () => {
    const dir = join(home, "pq");
    mkdirSync(dir);
    const db = await DuckDBInstance.create(":memory:");
    const duck = await db.connect();
    await duck.run(`COPY (SELECT i AS id FROM range(100) t(i)) TO '${dir}/a.parquet' (FORMAT parquet)`);
    duck.closeSync();
    // The last file is no Parquet file: the source letters it in the pull that ends it.
    writeFileSync(join(dir, "b.parquet"), "not parquet at all\n");
    const stop = new AbortController();
    const p = (stopAt?: number) =>
      pipeline("dl-cut-stop-end", { checkpoint: { rows: 1000 } })
        .from(parquet(join(dir, "*.parquet"), { chunkRows: 10 }))
        .via(
          mapAsync(
            async (r: { id: number }) => {
              if (r.id === stopAt) stop.abort();
              return r;
            },
            { concurrency: 1 },
          ),
        )
        .to(probeSink());
    const { bus, cps } = checkpointBus();
    const stopped = await runPipeline(p(95), { home, bus, signal: stop.signal, sampleResources: false });
    expect(stopped.status).toBe("interrupted");
    const cp = cps.at(-1) as EventOf<"checkpoint">;
    const resumed = await resumeFrom(p(), cp);
    expect(resumed.status, resumed.error?.message).toBe("completed");
    const letters = lines(resumed.deadLetterFile as string);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toContain("b.parquet");
  });
});
