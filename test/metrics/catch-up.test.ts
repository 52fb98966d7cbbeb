/**
 * The journal is the truth and the store a projection (DESIGN §4): runs do
 * not write the store; `catchUp` ingests every journal under the state
 * directory that the store has not fully read, whatever the pipeline, once —
 * and a journal that grew (a live run) is read from where reading stopped.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runJournaled } from "../../src/journal/run-journal.ts";
import { catchUp, openCaughtUp } from "../../src/metrics/catch-up.ts";
import { openMetricsStore } from "../../src/metrics/store.ts";
import { interruptedOnce, numbers } from "./catch-up-fixtures.ts";
import { tempHome } from "./fixtures.ts";

const home = tempHome("catch-up");
afterAll(() => home.cleanup());

async function count(h: string, sql: string): Promise<number> {
  const store = await openMetricsStore(h, { readOnly: true });
  try {
    return Number((await store.query(sql)).rows[0]?.n);
  } finally {
    await store.close();
  }
}

describe("catchUp", () => {
  it("a run writes no store; a reader ingests every pipeline's journals once", async () => {
    const h = join(home.dir, "many");
    const a = await runJournaled(numbers("alpha", 50), { home: h, sampleResources: false });
    const b = await runJournaled(numbers("beta", 70), { home: h, sampleResources: false });
    expect(a.status).toBe("completed");
    expect(b.status).toBe("completed");
    expect(existsSync(join(h, "metrics.duckdb"))).toBe(false);

    const first = await openCaughtUp(h);
    expect(first.caughtUp).toMatchObject({ runs: 2, read: 2 });
    expect(first.caughtUp?.accepted).toBeGreaterThan(0);
    const rows = (await first.store.query("SELECT pipeline, status, rows_in FROM runs ORDER BY pipeline"))
      .rows;
    expect(rows).toEqual([
      { pipeline: "alpha", status: "completed", rows_in: 50 },
      { pipeline: "beta", status: "completed", rows_in: 70 },
    ]);
    // Nothing new: nothing read again.
    const again = await catchUp(first.store, h);
    expect(again).toMatchObject({ runs: 2, read: 0, events: 0 });
    await first.store.close();

    // A third run is picked up by the next reader; the others are not re-read.
    await runJournaled(numbers("alpha", 10), { home: h, sampleResources: false, resume: false });
    const second = await openCaughtUp(h);
    expect(second.caughtUp).toMatchObject({ runs: 3, read: 1 });
    await second.store.close();
    expect(await count(h, "SELECT count(*) AS n FROM runs")).toBe(3);
    expect(await count(h, "SELECT count(*) - count(DISTINCT (run_id, seq)) AS n FROM events")).toBe(0);
  });

  it("reads a grown journal from where it stopped, and forgotten marks only re-read (idempotent by run, seq)", async () => {
    const h = join(home.dir, "grown");
    const { p, signal } = interruptedOnce("grow");
    const first = await runJournaled(p, { home: h, signal, sampleResources: false });
    expect(first.status).toBe("interrupted");
    const store = await openMetricsStore(h);
    const r1 = await catchUp(store, h);
    expect(r1.read).toBe(1);
    const before = Number((await store.query("SELECT max(seq) AS n FROM events")).rows[0]?.n);

    const second = await runJournaled(p, { home: h, sampleResources: false });
    expect(second.status).toBe("completed");
    expect(second.runId).toBe(first.runId);
    const r2 = await catchUp(store, h);
    expect(r2.read).toBe(1);
    expect(r2.events).toBeGreaterThan(0);
    // Only the new part was read: fewer events than the whole journal holds.
    const total = Number((await store.query("SELECT count(*) AS n FROM events")).rows[0]?.n);
    expect(r2.events).toBe(total - before);

    // Losing the marks costs a re-read, never a duplicate.
    await store.withWriter("test", (c) => c.run("DELETE FROM _sluice_journal_marks"));
    const r3 = await catchUp(store, h);
    expect(r3.events).toBe(total);
    expect(r3.accepted).toBe(0);
    const rows = (await store.query("SELECT status, rows_in FROM runs")).rows;
    expect(rows).toEqual([{ status: "completed", rows_in: 1000 }]);
    await store.close();
  });
});
