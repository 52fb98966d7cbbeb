/**
 * The store behind a server: caught up at each refresh; when another process
 * held it at start, a copy is served until the store is free, then the store
 * itself, caught up, and the copy is closed and removed once the queries on
 * it have ended.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runJournaled } from "../../src/journal/run-journal.ts";
import { ServedStore } from "../../src/metrics/served-store.ts";
import { holdStore, numbers } from "./catch-up-fixtures.ts";
import { tempHome } from "./fixtures.ts";

const home = tempHome("served-store");
afterAll(() => home.cleanup());

const pipelines = (served: ServedStore) =>
  served.use(async (s) => (await s.query("SELECT pipeline, rows_in FROM runs ORDER BY pipeline")).rows);

describe("ServedStore", () => {
  it("catches the store up at each refresh", async () => {
    const h = join(home.dir, "free");
    await runJournaled(numbers("alpha", 7), { home: h, sampleResources: false });
    const served = await ServedStore.open(h);
    try {
      expect(served.stale).toBeUndefined();
      expect(await pipelines(served)).toEqual([{ pipeline: "alpha", rows_in: 7 }]);
      await runJournaled(numbers("beta", 3), { home: h, sampleResources: false });
      await served.refresh();
      expect(await pipelines(served)).toEqual([
        { pipeline: "alpha", rows_in: 7 },
        { pipeline: "beta", rows_in: 3 },
      ]);
    } finally {
      await served.close();
    }
  });

  it("serves a copy while the store is held, then the store itself once it is free", async () => {
    const h = join(home.dir, "held");
    await runJournaled(numbers("alpha", 25), { home: h, sampleResources: false });
    // A first reader creates the store and takes alpha.
    await (await ServedStore.open(h)).close();
    const holder = await holdStore(h);
    let freed = 0;
    let served: ServedStore | undefined;
    try {
      const waits: string[] = [];
      served = await ServedStore.open(h, {
        waitMs: 100,
        onFreed: () => freed++,
        onWaiting: (m) => waits.push(m),
      });
      expect(served.stale).toContain(`is held by process ${holder.pid}`);
      // Said once, as the wait began (a run with --serve held back 10 s without a word, before).
      expect(waits).toEqual([
        expect.stringMatching(`is held by process ${holder.pid}; waiting up to 100 ms for it`),
      ]);
      const copy = await served.use(async (s) => s.path);
      expect(copy).not.toBe(join(h, "metrics.duckdb"));
      await runJournaled(numbers("beta", 5), { home: h, sampleResources: false });
      // Still held: the copy stays, as it stood.
      await served.refresh();
      expect(served.stale).toBeDefined();
      expect(await pipelines(served)).toEqual([{ pipeline: "alpha", rows_in: 25 }]);
      // A query that started on the copy finishes on it, though the store is taken meanwhile.
      let go = () => {};
      const gate = new Promise<void>((resolve) => {
        go = resolve;
      });
      const slow = served.use(async (s) => {
        await gate;
        return (await s.query("SELECT count(*) AS n FROM runs")).rows;
      });
      await holder.release();
      await served.refresh();
      expect(served.stale).toBeUndefined();
      expect(freed).toBe(1);
      expect(existsSync(copy)).toBe(true);
      go();
      expect(await slow).toEqual([{ n: 1 }]);
      expect(existsSync(copy)).toBe(false);
      expect(await served.use(async (s) => s.path)).toBe(join(h, "metrics.duckdb"));
      expect(await pipelines(served)).toEqual([
        { pipeline: "alpha", rows_in: 25 },
        { pipeline: "beta", rows_in: 5 },
      ]);
    } finally {
      await holder.release();
      await served?.close();
    }
    expect(freed).toBe(1);
  }, 60_000);

  it("closing while a query runs waits for it (a connection closed under a query left the process alive for good)", async () => {
    const h = join(home.dir, "closing");
    await runJournaled(numbers("alpha", 7), { home: h, sampleResources: false });
    const served = await ServedStore.open(h);
    const running = served.use((s) =>
      s.query("SELECT count(*) AS n FROM range(400000000) a WHERE a.range % 7 = 0"),
    );
    await new Promise((r) => setTimeout(r, 300));
    await served.close();
    expect((await running).rows).toEqual([{ n: 57142858 }]);
  });
});
