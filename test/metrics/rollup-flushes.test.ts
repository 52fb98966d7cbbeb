/**
 * Rollup rows do not depend on how events were split into flushes: buckets
 * rewritten across many small flushes, evicted and reloaded by late events,
 * and resumed after a reopen, end up exactly as one flush writes them (a new
 * bucket is only inserted, a possibly stored one deleted first, so nothing is
 * duplicated or lost).
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { SluiceEvent } from "../../src/events/schema.ts";
import { type MetricsStore, openMetricsStore } from "../../src/metrics/store.ts";
import { latencyIn, progress, rng, T0, tempHome } from "./fixtures.ts";

const home = tempHome("rollup-flushes");
afterAll(() => home.cleanup());

const A = { runId: "run-a", pipeline: "p" };
const B = { runId: "run-b", pipeline: "p" };

function events(): SluiceEvent[] {
  const r = rng(7);
  const out: SluiceEvent[] = [];
  for (let i = 0; i < 400; i++) {
    for (const [base, stage, index] of [
      [A, "source", 0],
      [A, "1:map", 1],
      [B, "source", 0],
    ] as const) {
      const samples = Array.from({ length: 1 + Math.floor(r() * 6) }, () =>
        latencyIn(5 + Math.floor(r() * 60)),
      );
      out.push(
        progress(base, { stage, index, ts: T0 + i * 700 + Math.floor(r() * 300), samples, errors: i % 3 }),
      );
    }
    // A late event, minutes behind: its buckets were written and evicted long ago.
    if (i % 97 === 96) {
      out.push(progress(A, { stage: "source", index: 0, ts: T0 + (i - 90) * 700, samples: [latencyIn(70)] }));
    }
  }
  return out;
}

async function rollups(store: MetricsStore) {
  const out: Record<string, unknown> = {};
  for (const [t, time] of [
    ["stage_rollup_5s", "bucket"],
    ["stage_rollup_1m", "minute"],
    ["stage_rollup_run", "bucket"],
  ]) {
    out[t] = (
      await store.query(
        `SELECT run_id, stage, epoch_ms(${time}) AS b, events, rows_in, errors, lat_count, lat_idx,
                CAST(lat_n AS VARCHAR[]) AS lat_n, p50_ms, p99_ms, epoch_ms(first_ts) AS f, epoch_ms(last_ts) AS l
         FROM ${t} ORDER BY run_id, stage, b`,
        undefined,
        { maxRows: 100_000 },
      )
    ).rows;
  }
  return out;
}

describe("rollups across flushes", () => {
  it("many small flushes, evictions, late events and a reopen give the rows one flush gives", async () => {
    const all = events();
    const one = await openMetricsStore(join(home.dir, "one"), { flushIntervalMs: 3_600_000 });
    for (const e of all) one.add(e);
    await one.flush();
    const want = await rollups(one);
    await one.close();

    const dir = join(home.dir, "many");
    let many = await openMetricsStore(dir, { flushIntervalMs: 3_600_000 });
    for (let i = 0; i < all.length; i++) {
      many.add(all[i]);
      if (i % 7 === 6) await many.flush();
      if (i === Math.floor(all.length / 2)) {
        // Resume: the next events of both runs land in buckets already in the file.
        await many.close();
        many = await openMetricsStore(dir, { flushIntervalMs: 3_600_000 });
      }
    }
    await many.flush();
    const got = await rollups(many);
    await many.close();

    expect((want.stage_rollup_5s as unknown[]).length).toBeGreaterThan(150);
    expect(got).toEqual(want);
  });
});
