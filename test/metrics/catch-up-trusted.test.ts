/**
 * Catch-up reads events of the kinds with typed tables without the whole
 * event schema check (`TRUSTED_KINDS`): what it stores is what the
 * schema-checked events give, row for row, dead letters included.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runJournaled } from "../../src/journal/run-journal.ts";
import { listRunRefs, readRunEventBatches, readRunEvents } from "../../src/journal/runs.ts";
import { openCaughtUp, TRUSTED_KINDS } from "../../src/metrics/catch-up.ts";
import { openMetricsStore } from "../../src/metrics/store.ts";
import { pipeline } from "../../src/pipeline/pipeline.ts";
import { collect } from "../../src/sinks/index.ts";
import { csv } from "../../src/sources/index.ts";
import { tempHome } from "./fixtures.ts";

const home = tempHome("catch-up-trusted");
afterAll(() => home.cleanup());

const Order = z.object({ id: z.coerce.number().int(), user: z.string(), amount: z.coerce.number() });

const TABLES = ["dead_letters", "stage_progress", "run_starts", "run_ends", "checkpoints", "alert_events"];

async function rows(h: string, table: string): Promise<unknown[]> {
  const store = await openMetricsStore(h, { readOnly: true });
  try {
    return (await store.query(`SELECT * EXCLUDE (ts) FROM ${table} ORDER BY run_id, seq`)).rows;
  } finally {
    await store.close();
  }
}

describe("catch-up of trusted kinds", () => {
  it("stores the rows the schema-checked events give, dead letters included", async () => {
    const h = join(home.dir, "h");
    const file = join(home.dir, "orders.csv");
    const lines = ["id,user,amount"];
    for (let i = 0; i < 500; i++) {
      if (i % 10 === 3) lines.push(`${i},ragged`);
      else if (i % 10 === 7) lines.push(`${i},grüße ✓,n/a`);
      else lines.push(`${i},u${i % 7},${i * 1.5}`);
    }
    writeFileSync(file, `${lines.join("\n")}\n`);
    const r = await runJournaled(
      pipeline("orders")
        .from(csv(file, { schema: Order }))
        .to(collect()),
      {
        home: h,
        sampleResources: false,
      },
    );
    expect(r.status).toBe("completed");
    const [ref] = await listRunRefs(h);

    // The events themselves: equal to the parsed ones.
    const parsed = [];
    for await (const { event } of readRunEvents(ref.runDir)) parsed.push(event);
    const trusted = [];
    for await (const batch of readRunEventBatches(ref.runDir, { trustKinds: TRUSTED_KINDS }))
      for (const { event } of batch) trusted.push(event);
    expect(trusted).toEqual(parsed);
    expect(parsed.filter((e) => e.kind === "dead.letter")).toHaveLength(100);

    // The rows: a catch-up against an ingest of the parsed events.
    const caught = await openCaughtUp(h);
    await caught.store.close();
    const other = join(home.dir, "other");
    const store = await openMetricsStore(other);
    await store.ingest(parsed);
    await store.close();
    for (const t of TABLES) expect(await rows(h, t), t).toEqual(await rows(other, t));
    expect(await rows(h, "dead_letters")).toHaveLength(100);
  });
});
