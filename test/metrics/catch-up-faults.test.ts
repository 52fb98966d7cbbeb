/**
 * What a catch-up does when the state directory is not as it expects: a
 * damaged journal or one from a newer sluice does not keep the other runs
 * out of the store (each gets a warning); a pruned run is not loaded again
 * unless it is resumed, and then all of it is; a store another process holds
 * is shown as a copy of its last checkpoint, removed on close.
 */
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { metricsCommand } from "../../src/cli/commands/metrics.ts";
import { runJournaled } from "../../src/journal/run-journal.ts";
import { catchUp, openCaughtUp } from "../../src/metrics/catch-up.ts";
import { openMetricsStore } from "../../src/metrics/store.ts";
import { holdStore, interruptedOnce, numbers } from "./catch-up-fixtures.ts";
import { tempHome } from "./fixtures.ts";

const home = tempHome("catch-up-faults");
afterAll(() => home.cleanup());

function firstSegment(h: string, pipelineName: string): string {
  const runDir = join(h, pipelineName, readdirSync(join(h, pipelineName)).filter((d) => /^\d/.test(d))[0]);
  const dir = join(runDir, "journal");
  return join(dir, readdirSync(dir).filter((f) => f.endsWith(".seg"))[0]);
}

async function rowsIn(h: string): Promise<Array<Record<string, unknown>>> {
  const { store } = await openCaughtUp(h);
  try {
    return (await store.query("SELECT pipeline, rows_in FROM runs ORDER BY pipeline")).rows;
  } finally {
    await store.close();
  }
}

describe("catchUp when journals are not whole", () => {
  it("damaged bytes in one journal: a warning naming the run, the rest of it and the other runs loaded", async () => {
    const h = join(home.dir, "damaged");
    await runJournaled(numbers("alpha", 3000, 200), { home: h, sampleResources: false });
    await runJournaled(numbers("beta", 40), { home: h, sampleResources: false });
    const seg = firstSegment(h, "alpha");
    const bytes = readFileSync(seg);
    bytes.fill(0xff, Math.floor(bytes.length / 3), Math.floor(bytes.length / 3) + 4);
    writeFileSync(seg, bytes);

    const warnings: string[] = [];
    const { store, caughtUp } = await openCaughtUp(h, { onWarning: (m) => warnings.push(m) });
    try {
      expect(caughtUp).toMatchObject({ runs: 2, read: 2, skipped: 0 });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^run \S+ of pipeline alpha: Journal segment .* is corrupt at byte offset/);
      expect(warnings[0]).toContain("other events are in the metrics store");
      const runs = (await store.query("SELECT pipeline, status FROM runs ORDER BY pipeline")).rows;
      expect(runs).toEqual([
        { pipeline: "alpha", status: "completed" },
        { pipeline: "beta", status: "completed" },
      ]);
      // Read once: the next catch-up neither reads it again nor warns again.
      const again = await catchUp(store, h, { onWarning: (m) => warnings.push(m) });
      expect(again).toMatchObject({ read: 0 });
      expect(warnings).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it("a journal of a newer format is left out with a warning, tried again next time; the others are loaded", async () => {
    const h = join(home.dir, "newer");
    await runJournaled(numbers("alpha", 30), { home: h, sampleResources: false });
    await runJournaled(numbers("beta", 40), { home: h, sampleResources: false });
    const seg = firstSegment(h, "alpha");
    const bytes = readFileSync(seg);
    bytes[8] = 99;
    writeFileSync(seg, bytes);

    const warnings: string[] = [];
    const { store, caughtUp } = await openCaughtUp(h, { onWarning: (m) => warnings.push(m) });
    try {
      expect(caughtUp).toMatchObject({ runs: 2, read: 2, skipped: 1 });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^run \S+ of pipeline alpha: not loaded into the metrics store/);
      expect((await store.query("SELECT pipeline, rows_in FROM runs")).rows).toEqual([
        { pipeline: "beta", rows_in: 40 },
      ]);
      const again = await catchUp(store, h, { onWarning: (m) => warnings.push(m) });
      expect(again).toMatchObject({ read: 1, skipped: 1 });
      expect(warnings).toHaveLength(2);
    } finally {
      await store.close();
    }
  });
});

describe("catchUp when a journal directory cannot be read", () => {
  it("says so and loads the others (was skipped without a word)", async () => {
    const h = join(home.dir, "unreadable");
    await runJournaled(numbers("alpha", 10), { home: h, sampleResources: false });
    await runJournaled(numbers("beta", 20), { home: h, sampleResources: false });
    // An entry that cannot be stat'ed (a symbolic link loop: ELOOP, even for root).
    const dir = dirname(firstSegment(h, "alpha"));
    symlinkSync(join(dir, "loop-b"), join(dir, "loop-a"));
    symlinkSync(join(dir, "loop-a"), join(dir, "loop-b"));
    const warnings: string[] = [];
    const { store, caughtUp } = await openCaughtUp(h, { onWarning: (m) => warnings.push(m) });
    try {
      expect(caughtUp).toMatchObject({ runs: 2, skipped: 1 });
      expect(warnings).toEqual([
        expect.stringMatching(/^run \S+ of pipeline alpha: not loaded into the metrics store .*ELOOP/),
      ]);
      expect((await store.query("SELECT pipeline FROM runs")).rows).toEqual([{ pipeline: "beta" }]);
    } finally {
      await store.close();
    }
  });
});

describe("catchUp after prune", () => {
  it("a pruned run stays out until it is resumed, then the whole run is loaded", async () => {
    const h = join(home.dir, "pruned");
    const { p, signal } = interruptedOnce("grow");
    const first = await runJournaled(p, { home: h, signal, sampleResources: false });
    expect(first.status).toBe("interrupted");

    const store = await openMetricsStore(h);
    try {
      await catchUp(store, h);
      const pruned = await store.prune(0);
      expect(pruned.runs).toEqual([first.runId]);
      expect(await catchUp(store, h)).toMatchObject({ read: 0 });
      expect((await store.query("SELECT count(*) AS n FROM runs")).rows).toEqual([{ n: 0 }]);

      const second = await runJournaled(p, { home: h, sampleResources: false });
      expect(second.runId).toBe(first.runId);
      const after = await catchUp(store, h);
      expect(after.read).toBe(1);
      const total = Number((await store.query("SELECT count(*) AS n FROM events")).rows[0]?.n);
      expect(after.events).toBe(total);
      expect((await store.query("SELECT status, rows_in FROM runs")).rows).toEqual([
        { status: "completed", rows_in: 1000 },
      ]);
      // Both attempts, from the journal's first event: not only what the resumed attempt added.
      expect((await store.query("SELECT count(*) AS n, min(seq) AS first FROM run_starts")).rows).toEqual([
        { n: 2, first: 1 },
      ]);
    } finally {
      await store.close();
    }
  });
});

describe("store.prune", () => {
  it("catches its state directory up first: a run read part-way, finished, then pruned stays pruned", async () => {
    const h = join(home.dir, "prune-lib");
    const { p, signal } = interruptedOnce("lib");
    await runJournaled(p, { home: h, signal, sampleResources: false });
    const store = await openMetricsStore(h);
    try {
      await catchUp(store, h);
      // Resumed to its end while the store is open, then pruned before anything reads it.
      await runJournaled(p, { home: h, sampleResources: false });
      expect((await store.prune(0)).runs).toHaveLength(1);
      expect(await catchUp(store, h)).toMatchObject({ read: 0 });
      expect((await store.query("SELECT count(*) AS n FROM runs")).rows).toEqual([{ n: 0 }]);
    } finally {
      await store.close();
    }
  });
});

describe("sluice metrics --keep", () => {
  it("catches up before it prunes: a run read part-way, finished, then pruned stays pruned", async () => {
    const h = join(home.dir, "keep");
    const { p, signal } = interruptedOnce("keep");
    await runJournaled(p, { home: h, signal, sampleResources: false });
    const store = await openMetricsStore(h);
    await catchUp(store, h);
    await store.close();
    // The run goes on to its end; nothing reads it before the prune.
    await runJournaled(p, { home: h, sampleResources: false });
    expect(await metricsCommand(undefined, { home: h, json: false, keep: "0s" })).toBe(0);
    const { store: after, caughtUp } = await openCaughtUp(h);
    try {
      expect(caughtUp).toMatchObject({ runs: 1, read: 0 });
      expect((await after.query("SELECT count(*) AS n FROM runs")).rows).toEqual([{ n: 0 }]);
    } finally {
      await after.close();
    }
  });
});

describe("openCaughtUp while another process holds the store", () => {
  it("opens a copy as it stood, says so, and removes it on close", async () => {
    const h = join(home.dir, "held");
    await runJournaled(numbers("alpha", 25), { home: h, sampleResources: false });
    expect(await rowsIn(h)).toEqual([{ pipeline: "alpha", rows_in: 25 }]);
    await runJournaled(numbers("beta", 5), { home: h, sampleResources: false });
    const holder = await holdStore(h);
    try {
      const opened = await openCaughtUp(h, { waitMs: 200 });
      expect(opened.caughtUp).toBeUndefined();
      expect(opened.stale).toContain(`is held by process ${holder.pid}`);
      expect(opened.stale).toContain("a copy of it as it stood");
      const copy = opened.store.path;
      expect(copy).not.toBe(join(h, "metrics.duckdb"));
      // The copy has what the store held, not the run it has not caught up yet.
      expect((await opened.store.query("SELECT pipeline, rows_in FROM runs")).rows).toEqual([
        { pipeline: "alpha", rows_in: 25 },
      ]);
      await opened.store.close();
      expect(existsSync(copy)).toBe(false);
    } finally {
      await holder.release();
    }
  });

  it("a store the holder has not checkpointed yet (all in its WAL) is copied with its WAL", async () => {
    const h = join(home.dir, "held-new");
    await runJournaled(numbers("alpha", 5), { home: h, sampleResources: false });
    // The holder creates the store: its tables are in the WAL until a checkpoint.
    const holder = await holdStore(h);
    try {
      const opened = await openCaughtUp(h, { waitMs: 100 });
      expect(opened.stale).toContain("a copy of it as it stood");
      expect((await opened.store.query("SELECT count(*) AS n FROM runs")).rows).toEqual([{ n: 0 }]);
      await opened.store.close();
    } finally {
      await holder.release();
    }
  });
});
