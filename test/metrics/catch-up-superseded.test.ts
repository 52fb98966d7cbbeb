/**
 * A resumed run in the store: the stopped attempt's journal keeps the letters
 * it made after its last checkpoint, and the resumed attempt letters those
 * records again; the catch-up deletes the superseded ones, so `dead_letters`
 * lists each bad record once, as the file and `runs.dead_lettered` count it,
 * whether the store read the stopped attempt before the resume or not.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runJournaled } from "../../src/journal/run-journal.ts";
import { catchUp } from "../../src/metrics/catch-up.ts";
import { openMetricsStore } from "../../src/metrics/store.ts";
import { mapAsync } from "../../src/operators/index.ts";
import { makeOperator } from "../../src/operators/internal/operator.ts";
import { pipeline } from "../../src/pipeline/pipeline.ts";
import type { Operator } from "../../src/pipeline/types.ts";
import { ndjson } from "../../src/sinks/index.ts";
import { csv } from "../../src/sources/index.ts";
import { tempHome } from "./fixtures.ts";

const home = tempHome("catch-up-superseded");
afterAll(() => home.cleanup());

const schema = z.object({ id: z.coerce.number(), amount: z.coerce.number() });
type Row = z.output<typeof schema>;

/** 40,000 rows; every third has an amount that is not a number. How many letters a run makes of them. */
function badCsv(dir: string): { file: string; letters: number } {
  const rows = ["id,amount"];
  let letters = 0;
  for (let i = 0; i < 40_000; i++) {
    const bad = i % 3 === 1;
    rows.push(bad ? `${i},not-a-number` : `${i},${i}.5`);
    if (bad || i % 10 === 7) letters++;
  }
  const file = join(dir, "orders.csv");
  writeFileSync(file, `${rows.join("\n")}\n`);
  return { file, letters };
}

/** Dead-letters the rows whose id ends in 7. */
function lettersSevens(): Operator<Row, Row> {
  return makeOperator<Row, Row>("sevens", "many", (ctx) => ({
    type: "chunk",
    process(records) {
      const out: Row[] = [];
      for (const r of records) {
        if (r.id % 10 === 7) ctx.deadLetter({ reason: "ends in 7", record: r });
        else out.push(r);
      }
      return out;
    },
  }));
}

/** The source letters bad rows, a stage the rows whose id ends in 7; stopped at row `stopAt`. */
function stoppable(dir: string, file: string, stop: AbortController, stopAt?: number) {
  return pipeline("superseded", { checkpoint: { rows: 2_000 } })
    .from(csv(file, { header: true, schema }))
    .via(
      lettersSevens(),
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
      const { file, letters: expected } = badCsv(home.dir);
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
