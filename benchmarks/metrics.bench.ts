/**
 * @module Metrics store benchmark, one command:
 *
 *   node --import tsx benchmarks/metrics.bench.ts [--ingest 1000000] [--events 10000000] [--repeat 15]
 *     [--rounds 3] [--sections 1,2,3] [--kinds stage.progress,resource.sample,mix,dead.letter] [--batch N]
 *
 * 1. publish path: what `store.add` costs per event (buffering only);
 * 2. ingest: events/s end to end (`store.ingest`: store.add of every event
 *    through the last committed flush) through the store's batch path
 *    (columnar buffers → 2048-row data chunks filled by memory copies in the
 *    tables' own column types → DuckDB's appender, rollups and marks in the
 *    same transaction; `--batch` events per transaction, default the store's
 *    250 000) against
 *    DuckDB's Appender row by row into the same tables, and against staging
 *    the batch as CSV and `INSERT … SELECT FROM read_csv` (the file-staging
 *    route; no Parquet writer exists in JS here). Kinds: `stage.progress`,
 *    `resource.sample`, a mix (five `stage.progress` per `resource.sample`,
 *    as a run publishes them), and `dead.letter` (text columns, a JSON record). Each line states the ratio to the Appender,
 *    CPU time (all threads) next to wall, and whether 1M events/s is met.
 *    It also states the DuckDB ceiling for the kind's row shape: after the
 *    store path of a round (and `store.close()`), the raw rows the store
 *    wrote for the kind (`stage_progress`, `resource_samples`, or both for
 *    the mix) are copied from its file into TEMP tables, and DuckDB alone
 *    inserts them again into empty copies of those tables in a fresh
 *    database file beside the store's (`INSERT INTO t SELECT * FROM temp`,
 *    250 000 rows per statement, each its own transaction as the store's
 *    flushes are, table after table, then a `CHECKPOINT`): rows/s, which for
 *    raw rows is events/s. No client of DuckDB writes that shape faster on
 *    this machine, so the line gives store/ceiling and whether DuckDB alone
 *    meets 1M/s. Raw rows only: the rollup rows the store also writes for
 *    `stage.progress` (`stage_rollup_5s`, `_1m`, `_run`) are not inserted,
 *    so the ceiling is on the generous side. The store path's time ends at
 *    its last commit (its closing CHECKPOINT is not timed), so the ceiling is
 *    also given to its last commit, the like-for-like figure;
 * 3. queries over `--events` stage.progress events: p99 per stage per minute
 *    and friends, median of `--repeat` runs.
 *
 * Events are generated on the fly (not held in memory), as a bus delivers
 * them. The machine is shared: read the ratios, not the absolute figures.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DuckDBInstance, DuckDBTimestampValue, listValue } from "@duckdb/node-api";
import type { EventOf } from "../src/events/schema.ts";
import { sparsePercentiles } from "../src/metrics/internal/rollup.ts";
import { openMetricsStore } from "../src/metrics/store.ts";
import {
  deadLetterEvents,
  resourceEvents,
  resourceSample,
  STAGES,
  stageEvents,
} from "./lib/metrics-events.ts";

const { values: args } = parseArgs({
  options: {
    ingest: { type: "string", default: "1000000" },
    events: { type: "string", default: "10000000" },
    repeat: { type: "string", default: "15" },
    rounds: { type: "string", default: "3" },
    /** Which of the three sections to run, e.g. `--sections 2`. */
    sections: { type: "string", default: "1,2,3" },
    /** Which kinds the ingest section measures, e.g. `--kinds resource.sample`. */
    kinds: { type: "string", default: "stage.progress,resource.sample,mix" },
    /** Events per transaction in the ingest section (`IngestOptions.batchEvents`; default the store's). */
    batch: { type: "string", default: "" },
  },
});
const INGEST = Number(args.ingest);
const QUERY_EVENTS = Number(args.events);
const REPEAT = Number(args.repeat);
const ROUNDS = Number(args.rounds);
const INGEST_BATCH = args.batch ? Number(args.batch) : undefined;
const SECTIONS = new Set(args.sections.split(",").map((x) => x.trim()));
/** What a run publishes: one resource.sample after every five stage.progress. */
function* mixEvents(total: number, runs: number): Generator<EventOf<Kind>> {
  const stages = stageEvents(total, runs);
  const perRun = Math.ceil(total / runs);
  for (let i = 0; i < total; i++) {
    const e = stages.next().value as EventOf<"stage.progress">;
    yield i % 6 === 5 ? resourceSample(i, e.ts, perRun) : e;
  }
}

type Kind = "stage.progress" | "resource.sample" | "dead.letter";
type IngestKind = Kind | "mix";
const gen = (kind: IngestKind, n: number): Generator<EventOf<Kind>> =>
  kind === "stage.progress"
    ? stageEvents(n, 10)
    : kind === "mix"
      ? mixEvents(n, 10)
      : kind === "dead.letter"
        ? deadLetterEvents(n, 10)
        : resourceEvents(n, 10);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function timed(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const dir = mkdtempSync(join(tmpdir(), "sluice-metrics-bench-"));
let homes = 0;
const freshHome = () => join(dir, `h${homes++}`);

/** The Appender, one value at a time, into the store's own tables. */
async function appenderRowByRow(kind: IngestKind, n: number): Promise<number> {
  const home = freshHome();
  await (await openMetricsStore(home)).close(); // creates the schema
  const inst = await DuckDBInstance.create(join(home, "metrics.duckdb"));
  const conn = await inst.connect();
  const ms = await timed(async () => {
    const stageApp = await conn.createAppender("stage_progress");
    const resourceApp = await conn.createAppender("resource_samples");
    const deadApp = await conn.createAppender("dead_letters");
    let seq = 0;
    for (const e of gen(kind, n)) {
      const app = e.kind === "stage.progress" ? stageApp : e.kind === "dead.letter" ? deadApp : resourceApp;
      app.appendVarchar(e.runId);
      app.appendVarchar(e.pipeline);
      app.appendBigInt(BigInt(++seq));
      app.appendTimestamp(new DuckDBTimestampValue(BigInt(e.ts) * 1000n));
      if (e.kind === "stage.progress") {
        app.appendVarchar(e.stage);
        app.appendInteger(e.index);
        for (const v of [e.chunks, e.rowsIn, e.rowsOut, e.filtered, e.deadLettered, e.errors, e.bytes]) {
          app.appendBigInt(BigInt(v));
        }
        app.appendDouble(e.busyMs);
        app.appendDouble(e.intervalMs);
        app.appendNull();
        app.appendBigInt(BigInt(e.latency.count));
        app.appendDouble(e.latency.sumMs);
        app.appendDouble(e.latency.maxMs);
        for (const p of sparsePercentiles(e.latency)) app.appendDouble(p);
        app.appendList(listValue(e.latency.buckets.map((b) => b[0])));
        app.appendList(listValue(e.latency.buckets.map((b) => BigInt(b[1]))));
      } else if (e.kind === "dead.letter") {
        app.appendVarchar(e.stage);
        app.appendVarchar(e.reason);
        app.appendVarchar(e.error ?? "");
        app.appendInteger(e.attempts);
        app.appendVarchar(e.position.file ?? "");
        for (const v of [e.position.line, e.position.byteOffset, e.position.chunk, e.position.index]) {
          app.appendBigInt(BigInt(v ?? 0));
        }
        app.appendVarchar(e.raw ?? "");
        app.appendVarchar(JSON.stringify(e.record));
      } else {
        app.appendBigInt(BigInt(e.rssBytes));
        app.appendBigInt(BigInt(e.heapUsedBytes));
        app.appendDouble(e.cpuPercent);
        app.appendDouble(e.eventLoopDelayMs);
      }
      app.endRow();
    }
    stageApp.closeSync();
    resourceApp.closeSync();
    deadApp.closeSync();
  });
  conn.closeSync();
  inst.closeSync();
  return (n / ms) * 1000;
}

/** Staging a batch as CSV and loading it with read_csv (resource samples: numeric columns only). */
async function csvStaging(n: number): Promise<number> {
  const home = freshHome();
  await (await openMetricsStore(home)).close();
  const inst = await DuckDBInstance.create(join(home, "metrics.duckdb"));
  const conn = await inst.connect();
  const file = join(home, "batch.csv");
  const ms = await timed(async () => {
    const BATCH = 100_000;
    let lines: string[] = [];
    let seq = 0;
    const load = async () => {
      writeFileSync(file, lines.join("\n"));
      lines = [];
      await conn.run(
        `INSERT INTO resource_samples SELECT run_id, pipeline, seq, make_timestamp(ts * 1000), rss, heap, cpu, loop
         FROM read_csv('${file}', header = false, columns = {'run_id': 'VARCHAR', 'pipeline': 'VARCHAR', 'seq': 'BIGINT',
           'ts': 'BIGINT', 'rss': 'BIGINT', 'heap': 'BIGINT', 'cpu': 'DOUBLE', 'loop': 'DOUBLE'})`,
      );
    };
    for (const e of resourceEvents(n, 10)) {
      lines.push(
        `${e.runId},${e.pipeline},${++seq},${e.ts},${e.rssBytes},${e.heapUsedBytes},${e.cpuPercent},${e.eventLoopDelayMs}`,
      );
      if (lines.length >= BATCH) await load();
    }
    if (lines.length) await load();
  });
  conn.closeSync();
  inst.closeSync();
  return (n / ms) * 1000;
}

/** The raw tables each ingest kind writes (the store's rollup tables are left out of the ceiling). */
const RAW_TABLES: Record<IngestKind, readonly string[]> = {
  "stage.progress": ["stage_progress"],
  "resource.sample": ["resource_samples"],
  mix: ["stage_progress", "resource_samples"],
  "dead.letter": ["dead_letters"],
};

/**
 * DuckDB alone inserting the rows the store wrote: `tables` of the store's
 * (closed, checkpointed) file are copied into TEMP tables, empty copies are
 * made in a fresh database file beside it, and the inserts are timed, 250 000
 * rows per statement (each its own transaction), table after table, plus the
 * final CHECKPOINT. Not timed: opening, copying, creating the tables.
 */
async function duckdbCeiling(
  storeFile: string,
  tables: readonly string[],
): Promise<{ rows: number; ms: number; checkpointMs: number }> {
  const BATCH = 250_000;
  const home = freshHome();
  mkdirSync(home);
  const inst = await DuckDBInstance.create(join(home, "ceiling.duckdb"));
  const conn = await inst.connect();
  const counts: number[] = [];
  try {
    await conn.run(`ATTACH '${storeFile}' AS store (READ_ONLY)`);
    for (const t of tables) {
      // Insertion order is kept, so the TEMP table's rowids follow the store's (seq within each run).
      await conn.run(`CREATE TEMP TABLE src_${t} AS SELECT * FROM store.${t}`);
      await conn.run(`CREATE TABLE main.${t} AS SELECT * FROM src_${t} LIMIT 0`);
      const r = await conn.runAndReadAll(`SELECT count(*)::INTEGER FROM src_${t}`);
      counts.push(r.getRows()[0][0] as number);
    }
    await conn.run("DETACH store");
    let checkpointMs = 0;
    const ms = await timed(async () => {
      for (const [k, t] of tables.entries()) {
        for (let i = 0; i < counts[k]; i += BATCH) {
          await conn.run(
            `INSERT INTO main.${t} SELECT * FROM src_${t} WHERE rowid >= ${i} AND rowid < ${i + BATCH}`,
          );
        }
      }
      checkpointMs = await timed(() => conn.run("CHECKPOINT"));
    });
    return { rows: counts.reduce((a, b) => a + b, 0), ms, checkpointMs };
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

const fmt = (x: number) => `${(x / 1e6).toFixed(2)}M/s`;
const log = (s: string) => console.log(s);

try {
  log(`metrics store benchmark — ingest ${INGEST} events × ${ROUNDS} rounds, queries over ${QUERY_EVENTS}`);

  // 1. Publish path: store.add in steady state, i.e. batches of 50 000 (the default flush trigger)
  // with the flush between them not timed (each batch is made first, then published).
  for (const kind of SECTIONS.has("1") ? (["stage.progress", "resource.sample"] as const) : []) {
    const rates: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const store = await openMetricsStore(freshHome(), {
        flushIntervalMs: 3_600_000,
        flushEvents: Number.MAX_SAFE_INTEGER,
      });
      const BATCH = 50_000;
      const batches = Math.max(1, Math.floor(INGEST / BATCH));
      let addMs = 0;
      const events = gen(kind, batches * BATCH);
      for (let b = 0; b < batches; b++) {
        const made: EventOf<Kind>[] = [];
        for (let i = 0; i < BATCH; i++) made.push(events.next().value as EventOf<Kind>);
        addMs += await timed(() => {
          for (const e of made) store.add(e);
        });
        await store.flush();
      }
      rates.push(((batches * BATCH) / addMs) * 1000);
      await store.close();
    }
    log(
      `  publish path  ${kind.padEnd(16)} store.add ${fmt(median(rates)).padStart(9)}  (${(1e9 / median(rates)).toFixed(0)} ns/event, buffering only)`,
    );
  }

  // 2. Ingest end to end: store.ingest of generated events, through the last committed flush.
  const cpuMs = () => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  log(
    `  ingest: load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")} on ${availableParallelism()} cores`,
  );
  const kinds = (["stage.progress", "resource.sample", "mix", "dead.letter"] as const).filter((k) =>
    args.kinds.split(",").includes(k),
  );
  for (const kind of SECTIONS.has("2") ? kinds : []) {
    const batch: number[] = [];
    const cpu: number[] = [];
    const appender: number[] = [];
    const csv: number[] = [];
    /** DuckDB alone, raw rows/s: with the final CHECKPOINT, and to the last commit (as the store path is timed). */
    const ceiling: number[] = [];
    const ceilingToCommit: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const home = freshHome();
      const store = await openMetricsStore(home, { flushIntervalMs: 3_600_000 });
      const c0 = cpuMs();
      const ms = await timed(() => store.ingest(gen(kind, INGEST), { batchEvents: INGEST_BATCH }));
      cpu.push(cpuMs() - c0);
      batch.push((INGEST / ms) * 1000);
      await store.close();
      const raw = await duckdbCeiling(join(home, "metrics.duckdb"), RAW_TABLES[kind]);
      ceiling.push((raw.rows / raw.ms) * 1000);
      ceilingToCommit.push((raw.rows / (raw.ms - raw.checkpointMs)) * 1000);
      appender.push(await appenderRowByRow(kind, Math.min(INGEST, 300_000)));
      if (kind === "resource.sample") csv.push(await csvStaging(INGEST));
    }
    const b = median(batch);
    const best = Math.max(...batch);
    const a = median(appender);
    // CPU time of the median round: DuckDB's threads included, so it can exceed wall time.
    const c = median(cpu);
    let line =
      `  ingest        ${kind.padEnd(16)} store path ${fmt(b).padStart(8)} (best ${fmt(best)}, ` +
      `${((c / INGEST) * 1e3).toFixed(2)} s CPU per 1M)   appender row-by-row ${fmt(a).padStart(8)}   store/appender ×${(b / a).toFixed(1)}`;
    if (csv.length) line += `   CSV staging ${fmt(median(csv))} (store/CSV ×${(b / median(csv)).toFixed(1)})`;
    // The ceiling: raw rows only (a row is an event). The verdict in brackets is whether DuckDB alone
    // meets 1M/s, with its final CHECKPOINT and to its last commit (the store path's window).
    const ceil = median(ceiling);
    const toCommit = median(ceilingToCommit);
    line +=
      `   DuckDB ceiling ${fmt(ceil)} (store/ceiling ×${(b / ceil).toFixed(2)}), to its last commit ${fmt(toCommit)} ` +
      `(store/that ×${(b / toCommit).toFixed(2)}), raw rows only`;
    line += `   ≥1M/s: ${b >= 1e6 ? "met" : best >= 1e6 ? "best round only" : "NOT met"}`;
    const verdict = (xs: number[]) =>
      median(xs) >= 1e6 ? "met" : Math.max(...xs) >= 1e6 ? "best round only" : "not met";
    const [withCheckpoint, withoutCheckpoint] = [verdict(ceiling), verdict(ceilingToCommit)];
    line +=
      withCheckpoint === withoutCheckpoint
        ? ` (DuckDB alone: ${withCheckpoint})`
        : ` (DuckDB alone: ${withCheckpoint}; to its last commit: ${withoutCheckpoint})`;
    log(line);
  }

  // 3. Queries over QUERY_EVENTS stage.progress events.
  if (SECTIONS.has("3")) await queries();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

async function queries(): Promise<void> {
  const store = await openMetricsStore(freshHome(), { flushIntervalMs: 3_600_000, flushEvents: 200_000 });
  const runs = 100;
  const loadMs = await timed(() => store.ingest(stageEvents(QUERY_EVENTS, runs)));
  log(
    `  loaded ${QUERY_EVENTS} stage.progress events (${runs} runs × ${STAGES.length} stages, 1/s each) in ` +
      `${(loadMs / 1000).toFixed(1)} s = ${fmt((QUERY_EVENTS / loadMs) * 1000)} (rollups included)`,
  );
  const queries: Array<[string, string]> = [
    [
      "p99 per stage per minute, all 10M events (aggregated)",
      "SELECT count(*) AS buckets, max(p99_ms) AS worst FROM stage_metrics_by(INTERVAL 1 MINUTE)",
    ],
    [
      "p99 per stage per minute, all 10M events (all rows to JS)",
      "SELECT run_id, stage, bucket, p99_ms FROM stage_metrics_by(INTERVAL 1 MINUTE)",
    ],
    [
      "p99 per stage per minute, one run",
      "SELECT stage, bucket, p99_ms FROM stage_metrics_by(INTERVAL 1 MINUTE) WHERE run_id = 'run-0042'",
    ],
    [
      "p99 per stage per 10 s, one run (5 s rollup merged)",
      "SELECT stage, bucket, p99_ms FROM stage_metrics_by(INTERVAL 10 SECOND) WHERE run_id = 'run-0042'",
    ],
    [
      "p99 per stage per second, one run (raw events, all rows)",
      "SELECT stage, bucket, p99_ms FROM stage_metrics WHERE run_id = 'run-0042'",
    ],
    [
      "p50/p95/p99 per stage per 10 min, all (merged)",
      "SELECT count(*) AS buckets, max(p99_ms) FROM stage_metrics_by(INTERVAL 10 MINUTE)",
    ],
    [
      "whole-run p99 per stage, all runs (stage_totals)",
      "SELECT count(*) AS n, max(p99_ms) FROM stage_totals",
    ],
  ];
  for (const [name, sql] of queries) {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < REPEAT; i++) {
      let r: Awaited<ReturnType<typeof store.query>> | undefined;
      times.push(
        await timed(async () => {
          r = await store.query(sql, undefined, { maxRows: 10_000_000 });
        }),
      );
      rows = r?.rows.length ?? 0;
    }
    log(`  query  ${name.padEnd(58)} median ${median(times).toFixed(1).padStart(7)} ms  (${rows} rows)`);
  }
  await store.close();
}
