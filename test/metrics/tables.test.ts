/**
 * Every event kind has a home: each durable kind lands in a table whose `row`
 * function yields one value per column, every kind round-trips through the
 * store with its payload, and `run.progress` (live-only) is not stored.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  durable,
  type EventKind,
  eventKinds,
  parseEvent,
  type SluiceEvent,
} from "../../src/events/schema.ts";
import { ColumnBuffer, TEXT_CAP } from "../../src/metrics/internal/columns.ts";
import { tableOf } from "../../src/metrics/internal/tables.ts";
import { openMetricsStore } from "../../src/metrics/store.ts";
import { boundRaw } from "../../src/pipeline/internal/raw.ts";
import { histogramOf, T0, tempHome } from "./fixtures.ts";

const base = { runId: "run-k", pipeline: "p" };
const samples: Record<EventKind, Record<string, unknown>> = {
  "run.started": { stages: ["1:map"], source: "csv", sink: "ndjson", runtime: "node", runtimeVersion: "20" },
  "run.ended": { status: "completed", rowsIn: 1, rowsOut: 1, filtered: 0, deadLettered: 0, durationMs: 5 },
  "stage.progress": {
    stage: "1:map",
    index: 1,
    chunks: 1,
    rowsIn: 3,
    rowsOut: 3,
    filtered: 0,
    deadLettered: 0,
    errors: 0,
    bytes: 30,
    busyMs: 1,
    intervalMs: 1000,
    latency: histogramOf([0.5, 1, 2]),
  },
  "run.progress": { rowsIn: 1, rowsOut: 1, filtered: 0, deadLettered: 0, bytes: 1, elapsedMs: 100 },
  "dead.letter": {
    stage: "1:map",
    reason: "bad",
    attempts: 2,
    position: { file: "a.csv", line: 7 },
    raw: "x,y",
  },
  checkpoint: {
    id: 1,
    sourceOffset: { byte: 10 },
    rowsIn: 1,
    operatorState: { big: "state" },
    sinkToken: null,
    stageTotals: [{ stage: "1:map", rowsIn: 1, rowsOut: 1, filtered: 0, deadLettered: 0 }],
    rowsOut: 1,
    filtered: 0,
    deadLettered: 0,
  },
  "retry.scheduled": { stage: "1:map", attempt: 1, delayMs: 10, error: "e" },
  "circuit.state": { stage: "1:map", from: "closed", to: "open", failureRate: 0.6 },
  "rate.limited": { stage: "1:map", waitMs: 5, records: 10 },
  "bulkhead.shed": { stage: "1:map", records: 3, queued: 9 },
  "cache.stats": {
    stage: "1:map",
    hits: 1,
    misses: 1,
    evictions: 0,
    promotions: 0,
    demotions: 0,
    l2Hits: 0,
    entries: 1,
    bytes: 1,
    hitRate: 0.5,
  },
  "window.progress": {
    stage: "2:window.tumbling",
    watermark: 1_700_000_000_000,
    maxEventTime: 1_700_000_030_000,
    lagMs: 30_000,
    openWindows: 12,
    late: 1,
    lateAccepted: 2,
    maxSkewMs: 45_000,
    partitions: 0,
  },
  "worker.lifecycle": { stage: "2:score", action: "started", workerId: 1 },
  "worker.stats": {
    stage: "2:score",
    workers: 1,
    idle: 0,
    busy: 1,
    queueDepth: 0,
    completed: 1,
    failed: 0,
    retried: 0,
    avgTaskMs: 1,
    utilisation: 1,
  },
  "cluster.worker": {
    stage: "2:score",
    workerId: "box-a:4242:node",
    host: "box-a",
    pid: 4242,
    runtime: "node",
    state: "active",
    tasks: 3,
    records: 300,
    failures: 1,
    busyMs: 250,
    redelivered: 1,
  },
  "alert.raised": {
    alertId: "run-k/errorRate",
    rule: "errorRate",
    severity: "warning",
    value: 1,
    threshold: 0.5,
    message: "m",
  },
  "alert.resolved": { alertId: "run-k/errorRate", rule: "errorRate", value: 0 },
  "resource.sample": { rssBytes: 1, heapUsedBytes: 1, cpuPercent: 1, eventLoopDelayMs: 1 },
  "config.changed": { stage: "1:chunk", setting: "chunkSize", from: 100, to: 200, reason: "latency" },
  warning: {
    stage: "source",
    code: "long-record",
    message: "the record starting at line 14 covers 5000 lines",
    position: { file: "a.csv", line: 14, byteOffset: 300, lines: 5000 },
  },
  log: { level: "warn", message: "careful", stage: "1:map" },
};

const events: SluiceEvent[] = eventKinds.map((kind, i) =>
  parseEvent({ kind, ...base, ts: T0 + i, ...samples[kind] }),
);

describe("event kinds and tables", () => {
  it("each durable kind's row has one value per column", () => {
    for (const e of events) {
      if (!durable[e.kind]) continue;
      const def = tableOf(e.kind);
      expect(def.kinds, e.kind).toContain(e.kind);
      expect(def.row(e).length, e.kind).toBe(def.columns.length - 4);
    }
  });

  const home = tempHome("tables");
  afterAll(() => home.cleanup());

  it("every durable kind round-trips through the store; run.progress is live-only", async () => {
    const store = await openMetricsStore(home.dir, { flushIntervalMs: 3_600_000 });
    const r = await store.ingest(events);
    const stored = events.filter((e) => durable[e.kind]);
    expect(r.accepted).toBe(stored.length);
    const { rows } = await store.query("SELECT kind, seq, stage, payload FROM events ORDER BY seq");
    expect(rows.map((x) => x.kind)).toEqual(stored.map((e) => e.kind));
    expect(rows.map((x) => x.seq)).toEqual(stored.map((_, i) => i + 1));
    const payload = (kind: string) => JSON.parse(String(rows.find((x) => x.kind === kind)?.payload));
    expect(payload("circuit.state")).toMatchObject({ from: "closed", to: "open", failureRate: 0.6 });
    expect(payload("dead.letter")).toMatchObject({
      reason: "bad",
      line: 7,
      file: "a.csv",
      raw: "x,y",
      attempts: 2,
    });
    expect(payload("checkpoint")).toMatchObject({ checkpoint_id: 1, rows_in: 1 });
    expect(JSON.stringify(payload("checkpoint"))).not.toContain("big");
    expect(payload("config.changed")).toMatchObject({ setting: "chunkSize", from: 100, to: 200 });
    expect(payload("cluster.worker")).toMatchObject({
      worker_id: "box-a:4242:node",
      host: "box-a",
      pid: 4242,
      state: "active",
      tasks: 3,
      busy_ms: 250,
      redelivered: 1,
    });
    await store.close();
  });
});

describe("JSON columns", () => {
  it("serialise records, BigInts as strings, and what JSON cannot hold as a marked value", () => {
    const buf = new ColumnBuffer([{ name: "record", kind: "json" }]);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    for (const v of [{ a: 1, b: [true, null] }, { n: 10n, m: [2n] }, cyclic, undefined, "text"])
      buf.push([v]);
    const [col] = buf.toBatch(new Map()).columns;
    expect(col.type).toBe("varchar");
    const values = (col as { values: ReadonlyArray<string | null> }).values;
    expect(values.slice(0, 2)).toEqual(['{"a":1,"b":[true,null]}', '{"n":"10","m":["2"]}']);
    expect(JSON.parse(values[2] ?? "")).toHaveProperty("$unserialisable");
    expect(values.slice(3)).toEqual([null, '"text"']);
  });
});

describe("text columns", () => {
  it("cut long text and say how much; a raw the journal already cut keeps that size", () => {
    const buf = new ColumnBuffer([{ name: "raw", kind: "str" }]);
    const long = "x".repeat(TEXT_CAP + 10);
    buf.push(["short"]);
    buf.push([long]);
    buf.push([`${long}…[1983622 bytes cut]`]);
    const [col] = buf.toBatch(new Map()).columns;
    const values = (col as { values: ReadonlyArray<string | null> }).values;
    expect(values[0]).toBe("short");
    expect(values[1]).toBe(`${"x".repeat(TEXT_CAP)}…[10 more chars]`);
    expect(values[2]).toBe(`${"x".repeat(TEXT_CAP)}…[10 more chars, then 1983622 bytes cut]`);
  });

  it("a raw the journal cut to just under the cap (16 KiB of 2-byte text) is kept with its one marker", () => {
    // 8,186 two-byte letters and 4 three-byte signs are the 16 KiB boundRaw keeps: 8,190 chars and its marker.
    const raw = boundRaw(`${"д".repeat(8186)}€€€€${"д".repeat(100_000)}`) as string;
    expect(raw.length).toBeGreaterThan(TEXT_CAP);
    const buf = new ColumnBuffer([{ name: "raw", kind: "str" }]);
    buf.push([raw]);
    buf.push([`x${"😀".repeat(TEXT_CAP)}…[5 bytes cut]`]);
    const [col] = buf.toBatch(new Map()).columns;
    const values = (col as { values: ReadonlyArray<string | null> }).values;
    expect(values[0]).toBe(raw);
    expect(values[0]?.match(/…\[/g)).toHaveLength(1);
    // Cut again, never inside a surrogate pair.
    expect(values[1]).toBe(
      `x${"😀".repeat(TEXT_CAP / 2 - 1)}…[${TEXT_CAP + 2} more chars, then 5 bytes cut]`,
    );
  });
});

describe("histogram columns", () => {
  it("copy each row's pairs as it arrives, across growth and reuse, and keep nothing of the event", () => {
    const buf = new ColumnBuffer([
      { name: "n", kind: "num" },
      { name: "lat", kind: "hist" },
    ]);
    // Rounds of 700, 20,000 (past what reset keeps: the arrays shrink) and 700 rows again.
    const lengths = [700, 20_000, 700];
    const rowsOf = (round: number) =>
      Array.from({ length: lengths[round] }, (_, i) =>
        i % 7 === 3
          ? undefined
          : {
              buckets: Array.from(
                { length: (i + round) % 13 },
                (_, j) => [j * 3 + round, i * 10 + j] as const,
              ),
            },
      );
    for (const round of [0, 1, 2]) {
      const rows = rowsOf(round);
      for (let i = 0; i < rows.length; i++) {
        const h = rows[i];
        buf.push([i, h]);
        // The event's lists may be reused or changed once taken: the buffer holds its own copy.
        if (h) for (const pair of h.buckets) (pair as unknown as number[])[1] = -1;
      }
      const [, idx, cnt] = buf.toBatch(new Map()).columns as Array<{
        offsets?: Uint32Array;
        values: ArrayLike<number>;
      }>;
      const want = rowsOf(round);
      expect(idx.offsets?.length).toBe(want.length + 1);
      for (let i = 0; i < want.length; i++) {
        const from = idx.offsets?.[i] ?? 0;
        const to = idx.offsets?.[i + 1] ?? 0;
        const pairs = Array.from({ length: to - from }, (_, k) => [
          idx.values[from + k],
          cnt.values[from + k],
        ]);
        expect(pairs).toEqual((want[i]?.buckets ?? []).map(([b, c]) => [b, c]));
      }
      buf.reset();
    }
  });
});
