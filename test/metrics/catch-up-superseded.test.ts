/**
 * A resumed run in the store: the stopped attempt's journal keeps the letters
 * it made after its last checkpoint, and the resumed attempt letters those
 * records again; the catch-up deletes the superseded ones, so `dead_letters`
 * lists each bad record once, as the file and `runs.dead_lettered` count it,
 * whether the store read the stopped attempt before the resume or not.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runJournaled } from "../../src/journal/run-journal.ts";
import { catchUp } from "../../src/metrics/catch-up.ts";
import { openMetricsStore } from "../../src/metrics/store.ts";
import { mapAsync } from "../../src/operators/index.ts";
import { makeOperator } from "../../src/operators/internal/operator.ts";
import { pipeline } from "../../src/pipeline/pipeline.ts";
import type { Operator } from "../../src/pipeline/types.ts";
import { ndjson } from "../../src/sinks/index.ts";
import { csv } from "../../src/sources/index.ts";
import { badCsv, type CsvRow as Row, schema } from "../pipeline/resume-fixtures.ts";
import { tempHome } from "./fixtures.ts";

const home = tempHome("catch-up-superseded");
afterAll(() => home.cleanup());

/** The orders CSV with bad rows (`resume-fixtures.ts`), and how many letters a run makes of it: its bad rows and the ids ending in 7. */
function lettered(dir: string): { file: string; letters: number } {
  const { file, bad, total } = badCsv(dir, "orders.csv");
  let sevens = 0;
  for (let i = 0; i < total; i++) if (i % 3 !== 1 && i % 10 === 7) sevens++;
  return { file, letters: bad + sevens };
}

/** Dead-letters the rows whose id ends in 7 (under another stage's name with `named`). */
function lettersSevens(named?: string): Operator<Row, Row> {
  return makeOperator<Row, Row>("sevens", "many", (ctx) => ({
    type: "chunk",
    process(records) {
      const out: Row[] = [];
      for (const r of records) {
        if (r.id % 10 === 7)
          ctx.deadLetter({ reason: "ends in 7", record: r, ...(named ? { stage: named } : {}) });
        else out.push(r);
      }
      return out;
    },
  }));
}

/** The source letters bad rows, a stage the rows whose id ends in 7; stopped at row `stopAt`. */
function stoppable(dir: string, file: string, stop: AbortController, stopAt?: number, named?: string) {
  return pipeline("superseded", { checkpoint: { rows: 2_000 } })
    .from(csv(file, { header: true, schema }))
    .via(
      lettersSevens(named),
      mapAsync(
        async (r: Row) => {
          if (r.id === stopAt) stop.abort();
          if (r.id % 500 === 0) await new Promise((res) => setTimeout(res, 2));
          return r;
        },
        { concurrency: 1 },
      ),
    )
    .to(ndjson(join(dir, "out.ndjson")));
}

async function figures(h: string) {
  const store = await openMetricsStore(h);
  try {
    await catchUp(store, h);
    const [run] = (await store.query("SELECT status, dead_lettered FROM runs")).rows;
    const [letters] = (
      await store.query(
        "SELECT count(*) AS n, count(DISTINCT (stage, line, record::VARCHAR)) AS distinct_n FROM dead_letters",
      )
    ).rows;
    return { run, letters };
  } finally {
    await store.close();
  }
}

describe("catch-up of a resumed run's dead letters", () => {
  for (const readBetween of [true, false])
    it(`lists each bad record once (${readBetween ? "read before the resume too" : "read after it only"})`, async () => {
      const dir = join(home.dir, String(readBetween));
      const { file, letters: expected } = lettered(home.dir);
      const stop = new AbortController();
      const first = await runJournaled(stoppable(dir, file, stop, 5_000), {
        home: dir,
        signal: stop.signal,
        sampleResources: false,
      });
      expect(first.status).toBe("interrupted");
      if (readBetween) {
        // The store takes the stopped attempt: its letters after the last checkpoint included.
        const before = await figures(dir);
        expect(Number(before.letters?.n)).toBe(first.deadLettered);
      }
      const resumed = await runJournaled(stoppable(dir, file, new AbortController()), {
        home: dir,
        sampleResources: false,
      });
      expect(resumed.runId).toBe(first.runId);
      expect(resumed.status).toBe("completed");
      expect(resumed.deadLettered).toBe(expected);
      const lines = readFileSync(resumed.deadLetterFile as string, "utf8")
        .trim()
        .split("\n");
      expect(lines).toHaveLength(expected);
      const after = await figures(dir);
      expect(after.run).toEqual({ status: "completed", dead_lettered: expected });
      expect(after.letters).toEqual({ n: expected, distinct_n: expected });
    });
});

/** Fails the run (a crash) at row `crashAt`. */
function crashing(dir: string, file: string, crashAt?: number) {
  return pipeline("superseded-crash", { checkpoint: { rows: 2_000 }, onError: "fail" })
    .from(csv(file, { header: true, schema }))
    .via(
      lettersSevens(),
      makeOperator<Row, Row>("crasher", "one", () => ({
        type: "chunk",
        process(records) {
          for (const r of records) if (r.id === crashAt) throw new Error("crash");
          return records;
        },
      })),
    )
    .to(ndjson(join(dir, "out.ndjson")));
}

/** The letters in the file and in the store (caught up now). */
async function fileAndStore(dir: string, deadLetterFile: string) {
  const file = readFileSync(deadLetterFile, "utf8").trim().split("\n").length;
  const { letters } = await figures(dir);
  return { file, store: Number(letters?.n), distinct: Number(letters?.distinct_n) };
}

describe("catch-up of a run resumed more than once (found by review)", () => {
  for (const readBetween of [false, true])
    it(`stopped twice, then completed: each bad record once (${readBetween ? "read after each attempt" : "read at the end only"})`, async () => {
      const dir = join(home.dir, `twice-${readBetween}`);
      const { file, letters: expected } = lettered(home.dir);
      for (const stopAt of [5_000, 15_000]) {
        const stop = new AbortController();
        const s = await runJournaled(stoppable(dir, file, stop, stopAt), {
          home: dir,
          signal: stop.signal,
          sampleResources: false,
        });
        expect(s.status).toBe("interrupted");
        if (readBetween) await figures(dir);
      }
      const done = await runJournaled(stoppable(dir, file, new AbortController()), {
        home: dir,
        sampleResources: false,
      });
      expect(done.status).toBe("completed");
      expect(await fileAndStore(dir, done.deadLetterFile as string)).toEqual({
        file: expected,
        store: expected,
        distinct: expected,
      });
    });

  for (const readBetween of [false, true])
    it(`crashed before its first checkpoint, then mid-run, then completed (${readBetween ? "read after each attempt" : "read at the end only"})`, async () => {
      const dir = join(home.dir, `crashes-${readBetween}`);
      const { file, letters: expected } = lettered(home.dir);
      const a = await runJournaled(crashing(dir, file, 1_002), { home: dir, sampleResources: false });
      expect(a.status).toBe("failed");
      if (readBetween) await figures(dir);
      const b = await runJournaled(crashing(dir, file, 9_003), {
        home: dir,
        resume: a.runId,
        sampleResources: false,
      });
      expect([b.status, b.runId]).toEqual(["failed", a.runId]);
      if (readBetween) await figures(dir);
      const c = await runJournaled(crashing(dir, file), {
        home: dir,
        resume: a.runId,
        sampleResources: false,
      });
      expect(c.status, c.error?.message).toBe("completed");
      expect(await fileAndStore(dir, c.deadLetterFile as string)).toEqual({
        file: expected,
        store: expected,
        distinct: expected,
      });
    });

  it("letters filed under another stage's name: the run is left as it is, never short of a letter", async () => {
    const dir = join(home.dir, "named");
    const { file, letters: expected } = lettered(home.dir);
    const stop = new AbortController();
    await runJournaled(stoppable(dir, file, stop, 5_000, "source"), {
      home: dir,
      signal: stop.signal,
      sampleResources: false,
    });
    const done = await runJournaled(stoppable(dir, file, new AbortController(), undefined, "source"), {
      home: dir,
      sampleResources: false,
    });
    const got = await fileAndStore(dir, done.deadLetterFile as string);
    expect(got.file).toBe(expected);
    expect(got.store).toBeGreaterThan(expected);
    expect(got.distinct).toBe(expected);
  });
});
