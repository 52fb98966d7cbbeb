/**
 * @module The write path of the metrics store: per-run sequence numbers and
 * high-water marks, columnar buffers per table, the minute rollup, and the
 * flush that moves a batch into DuckDB in one transaction (raw rows, rewritten
 * rollup minutes and marks together, so a crash never leaves the rollup and
 * the raw tables disagreeing about what was ingested).
 *
 * `add` is what the bus subscriber calls: a map lookup and a few typed-array
 * writes. Everything else happens in `flush`, on a timer or when the buffer
 * reaches its size trigger.
 */

import type { AppendColumnData, BatchSource, Connection } from "../../duckdb/client.ts";
import { durable, type EventOf, type SluiceEvent } from "../../events/schema.ts";
import { openAppend, type TableAppend } from "./append.ts";
import { batchColumns, ColumnBuffer, type ColumnSpec } from "./columns.ts";
import {
  ROLLUPS,
  type RollupAcc,
  rollupBatch,
  rollupColumns,
  StageRollup,
  type StoredRollup,
} from "./rollup.ts";
import { TABLES, type TableDef, tableOf } from "./tables.ts";

interface Mark {
  pipeline: string;
  /** Highest sequence number accepted (buffered or written). */
  seq: number;
  ts: number;
  /** Highest sequence number written to the file. */
  persistedSeq: number;
  /** Timestamp of the newest event in the file when this process opened it. */
  storedUpTo: number;
  dirty: boolean;
}

export interface HighWaterMark {
  /** Per-run sequence number of the last event the store accepted. */
  readonly seq: number;
  /** The newest event timestamp accepted for the run (ms since epoch). */
  readonly ts: number;
  /** The last sequence number already committed to the file (≤ seq). */
  readonly persistedSeq: number;
}

export interface WriterStats {
  readonly buffered: number;
  readonly written: number;
  readonly skipped: number;
  readonly dropped: number;
  readonly flushes: number;
  readonly failedFlushes: number;
  readonly openRollups: number;
}

interface Pending {
  readonly buffers: Map<TableDef, ColumnBuffer>;
  readonly rows: number;
}

interface Rollup {
  readonly table: string;
  /** The bucket-start column. */
  readonly time: string;
  readonly widthMs: number;
  readonly accs: StageRollup;
  /** Keys (run, stage, bucket) of the rows a rewrite replaces. */
  readonly keys: BatchSource;
  readonly keysName: string;
}

const KEY_COLUMNS: readonly ColumnSpec[] = [
  { name: "run_id", kind: "sym" },
  { name: "stage", kind: "sym" },
  { name: "bucket", kind: "num" },
];

export class MetricsWriter {
  readonly #conn: Connection;
  readonly #marks = new Map<string, Mark>();
  #lastRun: string | undefined;
  #lastMark: Mark | undefined;
  /** Per table (raw and rollup): its appender and, per table column, which batch column it takes. */
  readonly #appenders = new Map<string, TableAppend>();
  readonly #rollups: Rollup[];
  #buffers = new Map<TableDef, ColumnBuffer>();
  /** Written buffers, emptied for reuse. */
  readonly #spare = new Map<TableDef, ColumnBuffer>();
  #buffered = 0;
  #retry: Pending[] = [];
  #written = 0;
  #skipped = 0;
  #dropped = 0;
  #flushes = 0;
  #failed = 0;

  private constructor(
    conn: Connection,
    readonly maxBuffered: number,
  ) {
    this.#conn = conn;
    this.#rollups = ROLLUPS.map((r) => {
      const keysName = `sluice_keys_${r.table}`;
      return {
        table: r.table,
        time: r.time,
        widthMs: r.widthMs,
        accs: new StageRollup(r.widthMs),
        keys: conn.registerBatchSource(keysName, batchColumns(KEY_COLUMNS)),
        keysName,
      };
    });
  }

  /** Creates the writer and loads every run's high-water mark. */
  static async open(conn: Connection, maxBuffered: number): Promise<MetricsWriter> {
    const w = new MetricsWriter(conn, maxBuffered);
    // Rows go straight into their tables through appenders (no SQL
    // statement per batch).
    for (const t of TABLES) w.#appenders.set(t.table, await openAppend(conn, t.table, t.columns));
    for (const r of ROLLUPS)
      w.#appenders.set(r.table, await openAppend(conn, r.table, rollupColumns(r.time)));
    const rows = await conn.all("SELECT run_id, pipeline, seq, epoch_ms(ts) AS ts FROM ingest_marks");
    for (const r of rows) {
      const seq = Number(r.seq);
      const ts = Number(r.ts);
      w.#marks.set(String(r.run_id), {
        pipeline: String(r.pipeline),
        seq,
        ts,
        persistedSeq: seq,
        storedUpTo: ts,
        dirty: false,
      });
    }
    return w;
  }

  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Takes one event. Durable events get the next sequence number of their run
   * (or `seq` when given, e.g. a journal position) and are skipped when at or
   * below the run's mark; `run.progress` is live-only and not stored.
   * Returns whether the event was accepted.
   */
  add(e: SluiceEvent, seq?: number): boolean {
    if (durable[e.kind] === false) return false;
    const def = tableOf(e.kind);
    // Consecutive events mostly belong to one run.
    let m = e.runId === this.#lastRun ? this.#lastMark : this.#marks.get(e.runId);
    if (!m) {
      m = {
        pipeline: e.pipeline,
        seq: 0,
        ts: 0,
        persistedSeq: 0,
        storedUpTo: Number.NEGATIVE_INFINITY,
        dirty: false,
      };
      this.#marks.set(e.runId, m);
    }
    this.#lastRun = e.runId;
    this.#lastMark = m;
    const s = seq ?? m.seq + 1;
    if (s <= m.seq) {
      this.#skipped++;
      return false;
    }
    if (this.#buffered >= this.maxBuffered) {
      // DuckDB is not keeping up (or failing): keep memory bounded. The mark
      // still advances so numbering stays aligned with the journal.
      this.#dropped++;
      m.seq = s;
      return false;
    }
    m.seq = s;
    if (e.ts > m.ts) m.ts = e.ts;
    m.dirty = true;
    let buf = this.#buffers.get(def);
    if (!buf) {
      buf = this.#spare.get(def) ?? new ColumnBuffer(def.columns);
      this.#spare.delete(def);
      this.#buffers.set(def, buf);
    }
    buf.push4(e.runId, e.pipeline, s, e.ts, def.row(e));
    this.#buffered++;
    if (e.kind === "stage.progress") {
      for (const r of this.#rollups) r.accs.add(e as EventOf<"stage.progress">, m.storedUpTo);
    } else if (e.kind === "run.ended") {
      for (const r of this.#rollups) r.accs.ended(e.runId);
    }
    return true;
  }

  /** Closes the appenders (before the connection closes). */
  close(): void {
    for (const a of this.#appenders.values()) a.close();
    this.#appenders.clear();
  }

  mark(runId: string): HighWaterMark | undefined {
    const m = this.#marks.get(runId);
    return m ? { seq: m.seq, ts: m.ts, persistedSeq: m.persistedSeq } : undefined;
  }

  marks(): Record<string, HighWaterMark> {
    const out: Record<string, HighWaterMark> = {};
    for (const [k, m] of this.#marks) out[k] = { seq: m.seq, ts: m.ts, persistedSeq: m.persistedSeq };
    return out;
  }

  /** Forgets marks of pruned runs. */
  forget(runIds: readonly string[]): void {
    for (const r of runIds) this.#marks.delete(r);
    this.#lastRun = undefined;
    this.#lastMark = undefined;
  }

  stats(): WriterStats {
    return {
      buffered: this.#buffered,
      written: this.#written,
      skipped: this.#skipped,
      dropped: this.#dropped,
      flushes: this.#flushes,
      failedFlushes: this.#failed,
      openRollups: this.#rollups.reduce((a, r) => a + r.accs.size, 0),
    };
  }

  /** Writes everything buffered in one transaction. Throws (after keeping the batch for a retry) on failure. */
  async flush(): Promise<number> {
    const current: Pending = { buffers: this.#buffers, rows: this.#buffered };
    this.#buffers = new Map();
    this.#buffered = 0;
    const batches = current.rows > 0 ? [...this.#retry, current] : this.#retry;
    this.#retry = [];
    // Everything this flush writes is captured now, before the first await:
    // events buffered while DuckDB works belong to the next flush, and the
    // rollup rows written here must count exactly the raw rows written here
    // (otherwise a crash between two flushes would count some events twice).
    const rollups = this.#rollups.map((r) => {
      const accs = r.accs.takeTouched();
      return { r, accs, snapshot: accs.map(StageRollup.copy) };
    });
    const touched = rollups.reduce((a, x) => a + x.accs.length, 0);
    const marks: Array<[string, Mark, number, number]> = [];
    for (const [runId, m] of this.#marks) {
      if (m.dirty) {
        marks.push([runId, m, m.seq, m.ts]);
        m.dirty = false;
      }
    }
    if (batches.length === 0 && touched === 0 && marks.length === 0) return 0;
    const conn = this.#conn;
    let rows = 0;
    try {
      await conn.run("BEGIN TRANSACTION");
      for (const p of batches) {
        for (const [def, buf] of p.buffers) {
          this.#appenders.get(def.table)!.append(buf.toColumns());
        }
        rows += p.rows;
      }
      for (const x of rollups) if (x.accs.length > 0) await this.#writeRollup(x.r, x.accs, x.snapshot);
      if (marks.length > 0) {
        // Two statements for all runs (a pair per run cost a round trip each,
        // about 2 ms while the event loop is busy buffering the next batch).
        const runs = marks.map((x) => x[0]);
        await conn.run("DELETE FROM ingest_marks WHERE list_contains($runs, run_id)", { runs });
        await conn.run(
          `INSERT INTO ingest_marks SELECT unnest($runs), unnest($pipelines), unnest($seqs)::BIGINT,
             unnest(list_transform($ts, t -> make_timestamp(CAST(round(t * 1000) AS BIGINT))))`,
          {
            runs,
            pipelines: marks.map((x) => x[1].pipeline),
            seqs: marks.map((x) => x[2]),
            ts: marks.map((x) => x[3]),
          },
        );
      }
      await conn.run("COMMIT");
    } catch (e) {
      await conn.run("ROLLBACK").catch(() => {});
      this.#retry = batches;
      for (const x of rollups) x.r.accs.retouch(x.accs);
      for (const [, m] of marks) m.dirty = true;
      this.#failed++;
      throw e;
    }
    for (const [, m, seq] of marks) if (seq > m.persistedSeq) m.persistedSeq = seq;
    for (const x of rollups) for (const a of x.accs) a.stored = true;
    for (const p of batches) {
      for (const [def, buf] of p.buffers) {
        buf.reset();
        this.#spare.set(def, buf);
      }
    }
    this.#written += rows;
    this.#flushes++;
    for (const r of this.#rollups) r.accs.evict();
    return rows;
  }

  /** Rewrites the buckets of `snapshot` (copies of the live `accs`, taken at flush start). */
  async #writeRollup(r: Rollup, accs: readonly RollupAcc[], snapshot: readonly RollupAcc[]): Promise<void> {
    const conn = this.#conn;
    for (let k = 0; k < snapshot.length; k++) {
      const a = snapshot[k];
      if (!a.needsLoad) continue;
      const rows = await conn.all(
        `SELECT events, chunks, rows_in, rows_out, filtered, dead_lettered, errors, bytes, busy_ms, cpu_ms, interval_ms,
                queue_depth_max, epoch_ms(first_ts) AS first_ms, epoch_ms(last_ts) AS last_ms, lat_count,
                lat_sum_ms, lat_max_ms, lat_idx, lat_n
         FROM ${r.table} WHERE run_id = $run AND stage = $stage AND ${r.time} = make_timestamp($bucket)`,
        { run: a.runId, stage: a.stage, bucket: a.bucket * 1000 },
      );
      const live = accs[k].needsLoad ? accs[k] : undefined;
      for (const row of rows) {
        StageRollup.merge(a, row as unknown as StoredRollup);
        // The live accumulator gets the stored part too, so later rewrites stay complete.
        if (live) StageRollup.merge(live, row as unknown as StoredRollup);
      }
      a.needsLoad = false;
      accs[k].needsLoad = false;
    }
    // Only buckets that may already be in the file are deleted first: most of
    // a flush's buckets are new, and DuckDB pays for deleted rows again when it
    // checkpoints.
    const keys = new ColumnBuffer(KEY_COLUMNS);
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const a of snapshot) {
      if (!a.stored) continue;
      keys.push([a.runId, a.stage, a.bucket]);
      if (a.bucket < lo) lo = a.bucket;
      if (a.bucket > hi) hi = a.bucket;
    }
    const symbols = new Map<string, number>();
    const batch = rollupBatch(snapshot, symbols);
    try {
      await r.keys.set(keys.toBatch(symbols));
      if (keys.rows > 0) {
        // The bucket range lets DuckDB skip row groups of older buckets.
        await conn.run(
          `DELETE FROM ${r.table} USING (
             SELECT $syms[run_id] AS r, $syms[stage] AS s, make_timestamp(CAST(round(bucket * 1000) AS BIGINT)) AS b
             FROM ${r.keysName}()
           ) k WHERE ${r.table}.${r.time} BETWEEN make_timestamp($lo) AND make_timestamp($hi)
             AND ${r.table}.run_id = k.r AND ${r.table}.stage = k.s AND ${r.table}.${r.time} = k.b`,
          { syms: [...symbols.keys()], lo: lo * 1000, hi: hi * 1000 },
        );
      }
    } finally {
      await r.keys.set(undefined).catch(() => {});
    }
    // The first three columns (run, pipeline, stage) are codes into `symbols`.
    const list = [...symbols.keys()];
    this.#appenders.get(r.table)!.append({
      rows: batch.rows,
      columns: batch.columns.map(
        (c, k): AppendColumnData =>
          k < 3 && c.type === "integer" ? { type: "symbols", codes: c.values, symbols: list } : c,
      ),
    });
  }
}
