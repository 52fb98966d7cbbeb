/**
 * @module How fast rows shaped like the metrics tables get from JavaScript
 * into DuckDB on this machine when they are already built as columns (no
 * event handling at all), route by route, next to the store's own path. One
 * command:
 *
 *   node --import tsx benchmarks/metrics-floor.bench.ts [--rows 1000000] [--rounds 3]
 *     [--shapes stage_progress,resource_samples]
 *
 * (`npm run bench:metrics-floor`). The evidence for the metrics ingest bar
 * (≥1M events/s): which part of the gap is the store's and which is the
 * floor any JS client of DuckDB stands on.
 *
 * Per shape, the table is created with the store's own columns (`TABLES` and
 * `storedColumns`: `stage_progress` has 24, among them the latency histogram
 * as two lists, USMALLINT[] and UBIGINT[], of ~16 items a row;
 * `resource_samples` 8 scalars), and its rows are built once, before any
 * timing, as typed-array columns from the events the store path ingests (one
 * run, five stages, the realistic histograms of `lib/metrics-events.ts`).
 * Then each route writes `--rows` rows, 250 000 per transaction (the store's
 * default batch), each into an empty table in a fresh database file, timed
 * to the last COMMIT (the final CHECKPOINT is excluded, as in the store's
 * own timing; a checkpoint DuckDB runs by itself during a COMMIT is
 * included, for every route alike):
 *
 * - `appender`: `Connection.appender` (src/duckdb/client.ts: 2048-row data
 *   chunks filled from the typed arrays by memory copies, in the table's own
 *   column types), BEGIN, append, COMMIT per batch: what the store's writer
 *   does with its raw rows;
 * - `temp + INSERT…SELECT`: the same appender into a TEMP table, then
 *   `INSERT INTO t SELECT * FROM` it and a `DELETE` of it, in one transaction
 *   per batch;
 * - `Parquet staging`: per batch an apache-arrow table over the same typed
 *   arrays (strings dictionary coded, numbers Float64 with NaN as null,
 *   lists as List<Uint16>/List<Float64>), Arrow IPC, parquet-wasm
 *   `writeParquet` (uncompressed, no dictionary pages), the file written and
 *   `INSERT INTO t SELECT … FROM read_parquet(file)` (the database opened
 *   with external access); the encoding is timed, it is part of the route;
 * - `DuckDB alone`: no JavaScript in the loop: the rows are first appended
 *   (not timed) into an in-memory TEMP table, then `INSERT INTO t SELECT *
 *   FROM` it, 250 000 rows per statement (each its own transaction), as the
 *   "DuckDB ceiling" of `metrics.bench.ts`: no client writes the shape faster;
 * - `store path`: `openMetricsStore(home, { flushIntervalMs: 3_600_000 })`
 *   and `store.ingest` of the same rows as events, generated on the fly, to
 *   its last commit (for `stage_progress` it also writes its rollups).
 *
 * Every route's table is checked against the appender's afterwards (row
 * count and a digest of every column), the store's too. Each line gives M
 * rows/s (median of the rounds), the process's CPU time (all threads, so
 * DuckDB's too) per 1M rows, the ratio to the appender route and whether
 * 1M rows/s is met; each shape ends with a verdict. The route order is
 * reversed every other round. Files go to a temporary directory, removed at
 * the end. The machine is shared: read the ratios, not the absolute figures.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  Dictionary,
  Field,
  Float64,
  Int32,
  List,
  makeData,
  makeVector,
  Table,
  tableToIPC,
  Uint16,
  Utf8,
  type Vector,
  vectorFromArray,
} from "apache-arrow";
import * as pq from "parquet-wasm";
import {
  type AppendBatch,
  type AppendColumnData,
  type Connection,
  type Database,
  openDuckDB,
} from "../src/duckdb/client.ts";
import type { EventOf } from "../src/events/schema.ts";
import { storedColumns } from "../src/metrics/internal/columns.ts";
import { TABLES, type TableDef } from "../src/metrics/internal/tables.ts";
import { openMetricsStore } from "../src/metrics/store.ts";
import { resourceEvents, stageEvents } from "./lib/metrics-events.ts";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    rounds: { type: "string", default: "3" },
    shapes: { type: "string", default: "stage_progress,resource_samples" },
  },
});
const ROWS = Number(args.rows);
const ROUNDS = Number(args.rounds);
/** Rows per transaction: the store's default ingest batch. */
const BATCH = 250_000;

const GENERATORS = {
  stage_progress: (n: number) => stageEvents(n, 1),
  resource_samples: (n: number) => resourceEvents(n, 1),
} as const;
type Shape = keyof typeof GENERATORS;
const SHAPES = args.shapes.split(",").map((s) => s.trim()) as Shape[];
for (const s of SHAPES) {
  if (!(s in GENERATORS))
    throw new Error(`--shapes: ${s} is not one of ${Object.keys(GENERATORS).join(", ")}`);
}

/** One built column: numbers (NaN = NULL), dictionary-coded strings (code 0 = NULL) or a flat list. */
type Col =
  | { readonly kind: "num"; readonly values: Float64Array }
  | { readonly kind: "sym"; readonly codes: Int32Array; readonly symbols: string[] }
  | {
      readonly kind: "list";
      readonly item: "usmallint" | "ubigint";
      readonly offsets: Uint32Array;
      readonly values: Uint16Array | Float64Array;
    };

interface Built {
  readonly def: TableDef;
  /** Stored column names and SQL types, in table order; one per built column. */
  readonly stored: Array<[string, string]>;
  readonly cols: Col[];
  /** List items per row, on average (0 without list columns). */
  readonly listItems: number;
}

/** The table's rows as columns, from the events `store.ingest` gets (seq k for the run's k-th event). */
function build(shape: Shape, n: number): Built {
  const def = TABLES.find((t) => t.table === shape);
  if (!def) throw new Error(`no metrics table ${shape}`);
  const specs = def.columns;
  const nums = specs.map((s) => (s.kind === "num" || s.kind === "ts" ? new Float64Array(n) : undefined));
  const syms = specs.map((s) =>
    s.kind === "sym" ? { codes: new Int32Array(n), map: new Map<string, number>() } : undefined,
  );
  const hists = specs.map((s) =>
    s.kind === "hist" ? new Array<readonly (readonly [number, number])[]>(n) : undefined,
  );
  for (const s of specs) {
    if (!["num", "ts", "sym", "hist"].includes(s.kind))
      throw new Error(`${shape}.${s.name}: ${s.kind} columns are not built here`);
  }
  let i = 0;
  for (const e of GENERATORS[shape](n) as Iterable<EventOf<"stage.progress" | "resource.sample">>) {
    const values = [e.runId, e.pipeline, i + 1, e.ts, ...def.row(e)];
    for (let c = 0; c < specs.length; c++) {
      const v = values[c];
      const num = nums[c];
      const sym = syms[c];
      const hist = hists[c];
      if (num) num[i] = typeof v === "number" ? v : typeof v === "boolean" ? Number(v) : Number.NaN;
      else if (sym) {
        if (v === undefined || v === null) continue;
        let code = sym.map.get(String(v));
        if (code === undefined) {
          code = sym.map.size + 1;
          sym.map.set(String(v), code);
        }
        sym.codes[i] = code;
      } else if (hist) hist[i] = (v as { buckets: readonly (readonly [number, number])[] }).buckets;
    }
    i++;
  }
  const cols: Col[] = [];
  let listItems = 0;
  for (let c = 0; c < specs.length; c++) {
    const num = nums[c];
    const sym = syms[c];
    const hist = hists[c];
    if (num) cols.push({ kind: "num", values: num });
    else if (sym) cols.push({ kind: "sym", codes: sym.codes, symbols: [...sym.map.keys()] });
    else if (hist) {
      const offsets = new Uint32Array(n + 1);
      for (let r = 0; r < n; r++) offsets[r + 1] = offsets[r] + hist[r].length;
      const idx = new Uint16Array(offsets[n]);
      const cnt = new Float64Array(offsets[n]);
      for (let r = 0; r < n; r++) {
        for (let j = 0, k = offsets[r]; j < hist[r].length; j++, k++) {
          idx[k] = hist[r][j][0];
          cnt[k] = hist[r][j][1];
        }
      }
      cols.push(
        { kind: "list", item: "usmallint", offsets, values: idx },
        { kind: "list", item: "ubigint", offsets, values: cnt },
      );
      listItems = offsets[n] / n;
    }
  }
  return { def, stored: storedColumns(specs), cols, listItems };
}

/** Rows `[from, to)` as a `Connection.appender` batch (views, no copies). */
function appendBatch(b: Built, from: number, to: number): AppendBatch {
  const columns: AppendColumnData[] = b.cols.map((c): AppendColumnData => {
    if (c.kind === "num") return { type: "double", values: c.values.subarray(from, to) };
    if (c.kind === "sym") return { type: "symbols", codes: c.codes.subarray(from, to), symbols: c.symbols };
    return c.item === "usmallint"
      ? {
          type: "usmallint_list",
          offsets: c.offsets.subarray(from, to + 1),
          values: c.values as Uint16Array,
        }
      : {
          type: "ubigint_list",
          offsets: c.offsets.subarray(from, to + 1),
          values: c.values as Float64Array,
        };
  });
  return { rows: to - from, columns };
}

/** An Arrow validity bitmap (bit set = valid) for the rows where `isNull`, or undefined when none is. */
function validity(n: number, isNull: (i: number) => boolean): { nullBitmap?: Uint8Array; nullCount: number } {
  let bitmap: Uint8Array | undefined;
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (!isNull(i)) continue;
    bitmap ??= new Uint8Array(Math.ceil(n / 8)).fill(0xff);
    bitmap[i >> 3] &= ~(1 << (i & 7));
    nulls++;
  }
  return { nullBitmap: bitmap, nullCount: nulls };
}

/** Rows `[from, to)` as a Parquet file's bytes: apache-arrow table → Arrow IPC → parquet-wasm. */
function toParquet(b: Built, from: number, to: number): Uint8Array {
  const n = to - from;
  const vectors: Record<string, Vector> = {};
  b.cols.forEach((c, k) => {
    const name = b.stored[k][0];
    if (c.kind === "num") {
      const v = c.values.subarray(from, to);
      vectors[name] = makeVector(
        makeData({ type: new Float64(), length: n, data: v, ...validity(n, (i) => Number.isNaN(v[i])) }),
      );
    } else if (c.kind === "sym") {
      // Codes are 1-based (0 is NULL): entry 0 of the dictionary is a placeholder never referenced.
      const codes = c.codes.subarray(from, to);
      vectors[name] = makeVector(
        makeData({
          type: new Dictionary(new Utf8(), new Int32()),
          length: n,
          data: codes,
          dictionary: vectorFromArray(["", ...c.symbols], new Utf8()),
          ...validity(n, (i) => codes[i] === 0),
        }),
      );
    } else {
      const base = c.offsets[from];
      const total = c.offsets[to] - base;
      const offsets = new Int32Array(n + 1);
      for (let i = 0; i <= n; i++) offsets[i] = c.offsets[from + i] - base;
      const child =
        c.item === "usmallint"
          ? makeData({
              type: new Uint16(),
              length: total,
              data: (c.values as Uint16Array).subarray(base, base + total),
            })
          : makeData({
              type: new Float64(),
              length: total,
              data: (c.values as Float64Array).subarray(base, base + total),
            });
      vectors[name] = makeVector(
        makeData({
          type: new List(new Field("item", child.type, true)),
          length: n,
          valueOffsets: offsets,
          child,
        }),
      );
    }
  });
  const ipc = tableToIPC(new Table(vectors), "stream");
  const props = new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression.UNCOMPRESSED)
    .setDictionaryEnabled(false)
    .build();
  return pq.writeParquet(pq.Table.fromIPCStream(ipc), props);
}

const columnsSql = (b: Built) => b.stored.map(([n, t]) => `${n} ${t}`).join(", ");

/**
 * A digest of a table's contents (row count; per column its non-NULL count
 * and a sum: of values, of string hashes, of list lengths and items), to
 * check that every route wrote the same rows.
 */
function digestSql(b: Built, table: string): string {
  const parts = ["count(*)"];
  for (const [n, t] of b.stored) {
    parts.push(`count(${n})`);
    if (t.endsWith("[]")) parts.push(`sum(len(${n}))`, `sum(list_sum(${n}))::HUGEINT`);
    else if (t === "VARCHAR") parts.push(`sum(hash(${n}))::HUGEINT`);
    else if (t === "TIMESTAMP") parts.push(`sum(epoch_ms(${n}))::HUGEINT`);
    else if (t === "DOUBLE") parts.push(`round(fsum(${n}), 3)`);
    else parts.push(`sum(${n})::HUGEINT`);
  }
  return `SELECT ${parts.map((p, i) => `(${p})::VARCHAR AS d${i}`).join(", ")} FROM ${table}`;
}

async function digest(conn: Connection, b: Built, table: string): Promise<string> {
  const rows = await conn.all(digestSql(b, table));
  return Object.values(rows[0]).join(",");
}

interface Measured {
  /** Wall time to the last COMMIT, ms. */
  readonly ms: number;
  /** Process CPU time (all threads) over the same window, ms. */
  readonly cpuMs: number;
  readonly digest: string;
}

const cpuNow = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** Times `work` (wall and CPU), then takes the digest of `t` in the same connection. */
async function measure(conn: Connection, b: Built, work: () => Promise<void>): Promise<Measured> {
  const c0 = cpuNow();
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  const cpuMs = cpuNow() - c0;
  return { ms, cpuMs, digest: await digest(conn, b, "main.t") };
}

let dbs = 0;
const dir = mkdtempSync(join(tmpdir(), "sluice-metrics-floor-"));

/** A fresh database file with an empty table `t` of the shape; removed after `fn`. */
async function withTable<T>(
  b: Built,
  external: boolean,
  fn: (conn: Connection, db: Database) => Promise<T>,
): Promise<T> {
  const path = join(dir, `db${dbs++}.duckdb`);
  const db = await openDuckDB(path, { externalAccess: external });
  try {
    const conn = await db.connect();
    await conn.run(`CREATE TABLE t (${columnsSql(b)})`);
    return await fn(conn, db);
  } finally {
    db.close();
    rmSync(path, { force: true });
    rmSync(`${path}.wal`, { force: true });
  }
}

/** Calls `fn(from, to)` for each 250 000-row batch of `ROWS`. */
async function batches(fn: (from: number, to: number) => Promise<void> | void): Promise<void> {
  for (let from = 0; from < ROWS; from += BATCH) await fn(from, Math.min(ROWS, from + BATCH));
}

const ROUTES = {
  appender: {
    name: "appender",
    label: "appender (Connection.appender)",
    run: (b: Built) =>
      withTable(b, false, async (conn) => {
        const app = await conn.appender("t");
        try {
          return await measure(conn, b, () =>
            batches(async (from, to) => {
              await conn.run("BEGIN TRANSACTION");
              app.append(appendBatch(b, from, to));
              await conn.run("COMMIT");
            }),
          );
        } finally {
          app.close();
        }
      }),
  },
  temp: {
    name: "TEMP + INSERT…SELECT",
    label: "TEMP table + INSERT…SELECT",
    run: (b: Built) =>
      withTable(b, false, async (conn) => {
        await conn.run(`CREATE TEMP TABLE staged (${columnsSql(b)})`);
        const app = await conn.appender("staged");
        try {
          return await measure(conn, b, () =>
            batches(async (from, to) => {
              await conn.run("BEGIN TRANSACTION");
              app.append(appendBatch(b, from, to));
              await conn.run("INSERT INTO main.t SELECT * FROM temp.main.staged");
              await conn.run("DELETE FROM temp.main.staged");
              await conn.run("COMMIT");
            }),
          );
        } finally {
          app.close();
        }
      }),
  },
  parquet: {
    name: "Parquet staging",
    label: "Parquet staging (arrow → parquet-wasm → read_parquet)",
    run: (b: Built) =>
      withTable(b, true, async (conn) => {
        const file = join(dir, `batch${dbs}.parquet`);
        // Numbers arrive as DOUBLE and are cast by the INSERT; ts is epoch ms.
        const select = b.stored
          .map(([n, t]) => (t === "TIMESTAMP" ? `make_timestamp(CAST(round(${n} * 1000) AS BIGINT))` : n))
          .join(", ");
        try {
          return await measure(conn, b, () =>
            batches(async (from, to) => {
              writeFileSync(file, toParquet(b, from, to));
              await conn.run(`INSERT INTO main.t SELECT ${select} FROM read_parquet('${file}')`);
            }),
          );
        } finally {
          rmSync(file, { force: true });
        }
      }),
  },
  duckdb: {
    name: "DuckDB alone",
    label: "DuckDB alone (INSERT…SELECT, in-memory table)",
    run: (b: Built) =>
      withTable(b, false, async (conn) => {
        // Not timed: the rows into an in-memory TEMP table, in insertion order (rowid = row).
        await conn.run(`CREATE TEMP TABLE src (${columnsSql(b)})`);
        const app = await conn.appender("src");
        await conn.run("BEGIN TRANSACTION");
        await batches((from, to) => app.append(appendBatch(b, from, to)));
        await conn.run("COMMIT");
        app.close();
        return measure(conn, b, () =>
          batches(async (from, to) => {
            await conn.run(
              `INSERT INTO main.t SELECT * FROM temp.main.src WHERE rowid >= ${from} AND rowid < ${to}`,
            );
          }),
        );
      }),
  },
  store: {
    name: "store path",
    label: "store path (store.ingest of events)",
    run: async (b: Built, shape: Shape): Promise<Measured> => {
      const home = join(dir, `home${dbs++}`);
      mkdirSync(home);
      try {
        const store = await openMetricsStore(home, { flushIntervalMs: 3_600_000 });
        const c0 = cpuNow();
        const t0 = performance.now();
        await store.ingest(GENERATORS[shape](ROWS));
        const ms = performance.now() - t0;
        const cpuMs = cpuNow() - c0;
        await store.close();
        const db = await openDuckDB(join(home, "metrics.duckdb"), { readOnly: true });
        try {
          return { ms, cpuMs, digest: await digest(await db.connect(), b, shape) };
        } finally {
          db.close();
        }
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
  },
} as const;
type Route = keyof typeof ROUTES;
const ORDER = Object.keys(ROUTES) as Route[];
/** The routes that write prebuilt columns from JavaScript. */
const JS_ROUTES: readonly Route[] = ["appender", "temp", "parquet"];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const fmt = (x: number) => `${(x / 1e6).toFixed(2)}M/s`;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
const verdict = (rates: number[]) =>
  median(rates) >= 1e6 ? "met" : Math.max(...rates) >= 1e6 ? "best round only" : "not met";

try {
  console.log(
    `metrics floor — ${ROWS} rows × ${ROUNDS} rounds per shape and route, ${BATCH} rows per transaction, ` +
      `timed to the last COMMIT (final CHECKPOINT excluded)`,
  );
  console.log(
    `load average ${load()} on ${availableParallelism()} cores; the machine is shared: read the ratios, not the absolutes`,
  );
  for (const shape of SHAPES) {
    const b = build(shape, ROWS);
    console.log(
      `  ${shape}: ${b.stored.length} columns${b.listItems ? `, lists of ${b.listItems.toFixed(1)} items a row` : ""}`,
    );
    const rates = new Map<Route, number[]>(ORDER.map((r) => [r, []]));
    const cpu = new Map<Route, number[]>(ORDER.map((r) => [r, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? [...ORDER].reverse() : ORDER;
      const digests = new Map<Route, string>();
      for (const route of order) {
        const m = await ROUTES[route].run(b, shape);
        rates.get(route)!.push((ROWS / m.ms) * 1000);
        cpu.get(route)!.push(m.cpuMs);
        digests.set(route, m.digest);
      }
      const want = digests.get("appender");
      for (const [route, d] of digests) {
        if (d !== want)
          throw new Error(`${shape}: ${route} wrote other rows than the appender (digest ${d} ≠ ${want})`);
      }
    }
    const rate = (r: Route) => median(rates.get(r)!);
    const appender = rate("appender");
    for (const route of ORDER) {
      const r = rate(route);
      console.log(
        `    ${ROUTES[route].label.padEnd(54)} ${fmt(r).padStart(8)}  ` +
          `${((median(cpu.get(route)!) / ROWS) * 1e3).toFixed(2).padStart(5)} s CPU per 1M  ` +
          `×${(r / appender).toFixed(2)} of appender  ≥1M/s: ${verdict(rates.get(route)!)}`,
      );
    }
    const fastest = JS_ROUTES.reduce((a, x) => (rate(x) > rate(a) ? x : a));
    const reaching = ORDER.filter((r) => median(rates.get(r)!) >= 1e6);
    console.log(
      `  verdict ${shape}: fastest JS route ${ROUTES[fastest].name} ${fmt(rate(fastest))}; ` +
        (reaching.length
          ? `1M/s reached by ${reaching.map((r) => ROUTES[r].name).join(", ")}`
          : "no route reaches 1M/s") +
        (reaching.length && !reaching.some((r) => JS_ROUTES.includes(r)) ? " (no JS route)" : "") +
        `; store path ${fmt(rate("store"))} = ×${(rate("store") / rate(fastest)).toFixed(2)} of the fastest JS route`,
    );
  }
  console.log(`load average at the end ${load()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
