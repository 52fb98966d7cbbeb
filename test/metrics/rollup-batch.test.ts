/**
 * `rollupBatch` writes the same column batch as the generic path
 * (`ColumnBuffer.push(rollupRow(a))` then `toBatch`): percentiles, NULL queue
 * depth, empty and merged (uncompacted) histograms included.
 */
import { describe, expect, it } from "vitest";
import type { EventOf } from "../../src/events/schema.ts";
import { ColumnBuffer } from "../../src/metrics/internal/columns.ts";
import { rollupBatch, rollupColumns, rollupRow, StageRollup } from "../../src/metrics/internal/rollup.ts";
import { latencyIn, progress, rng, T0 } from "./fixtures.ts";

describe("rollupBatch", () => {
  it("equals the generic column path for every column", () => {
    const r = rng(11);
    const acc = new StageRollup(5_000);
    for (let i = 0; i < 3000; i++) {
      const n = i % 17 === 0 ? 0 : 1 + Math.floor(r() * 40);
      const e: EventOf<"stage.progress"> = progress(
        { runId: `run-${i % 3}`, pipeline: i % 2 ? "p" : "q" },
        {
          stage: ["a", "b", "c"][i % 3],
          index: i % 3,
          ts: T0 + i * 400,
          samples: Array.from({ length: n }, () => latencyIn(Math.floor(r() * 90))),
          queueDepth: i % 5 === 0 ? undefined : i % 50,
        },
      );
      acc.add(e, Number.NEGATIVE_INFINITY);
    }
    // A replayed event may carry null where the schema has undefined.
    const replayed = progress(
      { runId: "run-null", pipeline: "p" },
      { stage: "a", index: 0, ts: T0, samples: [1] },
    );
    acc.add({ ...replayed, queueDepth: null } as unknown as EventOf<"stage.progress">, 0);
    acc.add(
      progress({ runId: "run-empty", pipeline: "p" }, { stage: "a", index: 0, ts: T0, samples: [] }),
      0,
    );
    const accs = acc.takeTouched().map(StageRollup.copy);
    // One accumulator with a merged stored row: its histogram is not compacted.
    StageRollup.merge(accs[5], {
      events: 1,
      chunks: 1,
      rows_in: 1,
      rows_out: 1,
      filtered: 0,
      dead_lettered: 0,
      errors: 0,
      bytes: 1,
      busy_ms: 1,
      interval_ms: 1,
      queue_depth_max: null,
      first_ms: T0,
      last_ms: T0,
      lat_count: 7,
      lat_sum_ms: 1,
      lat_max_ms: 900,
      lat_idx: [3, 80],
      lat_n: [2, 5],
    });
    expect(accs.some((a) => a.hist.count === 0)).toBe(true);
    const buf = new ColumnBuffer(rollupColumns("bucket"));
    for (const a of accs.map(StageRollup.copy)) buf.push(rollupRow(a));
    const wantSyms = new Map<string, number>();
    const gotSyms = new Map<string, number>();
    const want = buf.toBatch(wantSyms);
    const got = rollupBatch(accs, gotSyms);
    expect(got.rows).toBe(want.rows);
    expect(got.columns.length).toBe(want.columns.length);
    // Symbol codes may be numbered in another order: compare the strings they stand for.
    const decode = (syms: Map<string, number>) => {
      const names = [...syms.keys()];
      return (col: (typeof got.columns)[number]) =>
        col.type === "integer" ? Array.from(col.values, (code) => names[code - 1]) : col;
    };
    const [g, w] = [decode(gotSyms), decode(wantSyms)];
    for (let c = 0; c < want.columns.length; c++)
      expect([c, g(got.columns[c])]).toEqual([c, w(want.columns[c])]);
  });
});
