/**
 * Runs on node, bun and deno (see batch.test.ts): streams column
 * batches through `registerBatchSource` into a table and reads them back,
 * then stores `stage.progress` events with histograms through the metrics
 * store and reads the list columns back. Prints one JSON line: the values read
 * back and any mismatch against what went in.
 * Usage: batch-check.ts HOME
 */

import { type AppendBatch, type ColumnBatch, openDuckDB } from "../../src/duckdb/client.ts";
import { openMetricsStore } from "../../src/metrics/store.ts";

const home = process.argv[2];
const mismatches: string[] = [];
const check = (what: string, got: unknown, want: unknown) => {
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    if (mismatches.length < 20)
      mismatches.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
};

// 1. The batch source alone: 5000 rows (three chunks, lists crossing chunk
// boundaries), NaN as NULL, NULL strings, empty lists, counts up to 2^53 - 1.
const N = 5000;
const dbl = new Float64Array(N);
const int = new Int32Array(N);
const str: Array<string | null> = [];
const idxLists: number[][] = [];
const cntLists: number[][] = [];
const dblLists: number[][] = [];
for (let i = 0; i < N; i++) {
  dbl[i] = i % 7 === 0 ? Number.NaN : i * 1.5 - 100;
  int[i] = i % 3 === 0 ? -i : i * 1000;
  str.push(i % 5 === 0 ? null : `s${i}${"é".repeat(i % 20)}`);
  const len = i % 11 === 0 ? 0 : (i * 7) % 23;
  idxLists.push(Array.from({ length: len }, (_, k) => (i + k * 97) % 65536));
  cntLists.push(
    Array.from({ length: len }, (_, k) =>
      k === 0 && i % 13 === 1 ? Number.MAX_SAFE_INTEGER : k === 1 ? 2 ** 32 + i : i * 31 + k,
    ),
  );
  dblLists.push(Array.from({ length: len }, (_, k) => (k - i) / 8));
}
/** The offsets and flat items of per-row lists. */
function flat<A extends Uint16Array | Float64Array>(lists: number[][], make: (n: number) => A) {
  const offsets = new Uint32Array(lists.length + 1);
  for (let i = 0; i < lists.length; i++) offsets[i + 1] = offsets[i] + lists[i].length;
  const values = make(offsets[lists.length]);
  values.set(lists.flat());
  return { offsets, values };
}
const batch: ColumnBatch = {
  rows: N,
  columns: [
    { type: "double", values: dbl },
    { type: "integer", values: int },
    { type: "varchar", values: str },
    { type: "usmallint_list", ...flat(idxLists, (n) => new Uint16Array(n)) },
    { type: "ubigint_list", ...flat(cntLists, (n) => new Float64Array(n)) },
    { type: "double_list", ...flat(dblLists, (n) => new Float64Array(n)) },
  ],
};
const db = await openDuckDB(":memory:");
const conn = await db.connect();
const source = conn.registerBatchSource("check_batch", [
  { name: "d", type: "double" },
  { name: "i", type: "integer" },
  { name: "s", type: "varchar" },
  { name: "li", type: "usmallint_list" },
  { name: "lu", type: "ubigint_list" },
  { name: "ld", type: "double_list" },
]);
await conn.run(
  "CREATE TABLE t (k BIGINT, d DOUBLE, i INTEGER, s VARCHAR, li USMALLINT[], lu UBIGINT[], ld DOUBLE[])",
);
await source.set(batch);
// Twice: the staged batch is read again from row 0.
for (let r = 0; r < 2; r++) {
  await conn.run(`INSERT INTO t SELECT ${r} AS k, * FROM check_batch()`);
}
const rows = await conn.all(
  "SELECT k, d, i, s, li, CAST(lu AS VARCHAR[]) AS lu, ld FROM t ORDER BY k, rowid",
);
check("row count", rows.length, 2 * N);
for (let j = 0; j < rows.length; j++) {
  const i = j % N;
  const row = rows[j];
  check(`d[${j}]`, row.d, Number.isNaN(dbl[i]) ? null : dbl[i]);
  check(`i[${j}]`, row.i, int[i]);
  check(`s[${j}]`, row.s, str[i]);
  check(`li[${j}]`, row.li, idxLists[i]);
  check(
    `lu[${j}]`,
    row.lu,
    cntLists[i].map((x) => BigInt(x).toString()),
  );
  check(`ld[${j}]`, row.ld, dblLists[i]);
}
const [sums] = await conn.all(
  "SELECT count(d) AS d, count(s) AS s, sum(len(li)) AS li, count(*) FILTER (WHERE len(lu) = 0) AS empty FROM t",
);
// A count that is no whole number in [0, 2^53) is refused when staged: nothing of it is
// staged (the source reads no rows), and the connection stays usable.
const refused = await source
  .set({
    rows: 1,
    columns: [
      { type: "double", values: new Float64Array(1) },
      { type: "integer", values: new Int32Array(1) },
      { type: "varchar", values: ["x"] },
      { type: "usmallint_list", offsets: new Uint32Array([0, 1]), values: new Uint16Array([1]) },
      { type: "ubigint_list", offsets: new Uint32Array([0, 1]), values: new Float64Array([-1]) },
      { type: "double_list", offsets: new Uint32Array([0, 0]), values: new Float64Array(0) },
    ],
  })
  .then(
    () => "accepted",
    (e: Error) => (e.message.includes("ubigint_list") ? "refused" : e.message),
  );
await conn.run("INSERT INTO t SELECT 9, * FROM check_batch()");
await source.set(undefined);
const [after] = await conn.all("SELECT count(*) AS n FROM t");
conn.close();
db.close();

// 2. Through the store: histograms of 3000 events (more than one chunk) read back exactly.
const store = await openMetricsStore(home, { flushIntervalMs: 3_600_000 });
const T0 = Date.UTC(2026, 0, 1);
const events = Array.from({ length: 3000 }, (_, i) => ({
  kind: "stage.progress" as const,
  ts: T0 + i * 1000,
  runId: "run-b",
  pipeline: "p",
  stage: "map",
  index: 1,
  chunks: 1,
  rowsIn: 10,
  rowsOut: 10,
  filtered: 0,
  deadLettered: 0,
  errors: 0,
  bytes: 100,
  busyMs: 5,
  intervalMs: 1000,
  queueDepth: i % 4 === 0 ? undefined : i,
  latency: {
    count: i % 9 === 0 ? 0 : 3 + (i % 5),
    sumMs: 1,
    maxMs: 2,
    buckets: (i % 9 === 0
      ? []
      : [
          [i % 40, 1],
          [40 + (i % 7), 2 + (i % 5)],
        ]) as Array<[number, number]>,
  },
}));
await store.ingest(events);
const stored = await store.query(
  "SELECT seq, lat_idx, CAST(lat_n AS VARCHAR[]) AS lat_n, queue_depth FROM stage_progress ORDER BY seq",
  undefined,
  { maxRows: 10_000 },
);
check("stored rows", stored.rows.length, events.length);
for (let i = 0; i < stored.rows.length; i++) {
  const e = events[i];
  check(
    `stored lat_idx[${i}]`,
    stored.rows[i].lat_idx,
    e.latency.buckets.map((b) => b[0]),
  );
  check(
    `stored lat_n[${i}]`,
    stored.rows[i].lat_n,
    e.latency.buckets.map((b) => String(b[1])),
  );
  check(`stored queue_depth[${i}]`, stored.rows[i].queue_depth, e.queueDepth ?? null);
}
const [total] = (
  await store.query(
    "SELECT events, lat_count, lat_idx, CAST(lat_n AS VARCHAR[]) AS lat_n FROM stage_rollup_run",
  )
).rows;
await store.close();
// The whole-run rollup merges all 3000 histograms.
const merged = new Map<number, number>();
for (const e of events) for (const [k, n] of e.latency.buckets) merged.set(k, (merged.get(k) ?? 0) + n);
const keys = [...merged.keys()].sort((a, b) => a - b);
check("rollup lat_idx", total.lat_idx, keys);
check(
  "rollup lat_n",
  total.lat_n,
  keys.map((k) => String(merged.get(k))),
);
check(
  "rollup lat_count",
  total.lat_count,
  events.reduce((a, e) => a + e.latency.count, 0),
);

// 3. `appender`: batches converted to each table column's type, in a transaction.
const adb = await openDuckDB(":memory:");
const a = await adb.connect();
await a.run(
  `CREATE TABLE x (b BIGINT, t TIMESTAMP, f BOOLEAN, i INTEGER, j INTEGER, d DOUBLE, s VARCHAR, y JSON,
                   sym VARCHAR, one VARCHAR, ls VARCHAR[], li USMALLINT[], lu UBIGINT[], ld DOUBLE[],
                   rep VARCHAR, one_str VARCHAR)`,
);
const app = await a.appender("x");
check("appender columns", app.columns.join(","), "b,t,f,i,j,d,s,y,sym,one,ls,li,lu,ld,rep,one_str");
const M = 5000;
const big = new Float64Array(M);
const ms = new Float64Array(M);
const flag = new Float64Array(M);
const asInt = new Float64Array(M);
const strLists: string[][] = [];
const SYMBOLS = ["run-20261122T223859503Z-959b2e", "p", "ünïcode stage name, longer than twelve bytes"];
const codes = new Int32Array(M);
// One value per 2048-row chunk (the first two chunks differ, the third is NULL but for its last row).
const oneCodes = Int32Array.from({ length: M }, (_, i) =>
  i < 2048 ? 3 : i < 4096 ? 1 : i === M - 1 ? 2 : 0,
);
// Plain strings in runs (written once per run, structs copied down): long and short ones,
// NULLs inside runs, a run crossing a chunk boundary, equal runs apart; and one value for all rows.
const rep: Array<string | null> = Array.from({ length: M }, (_, i) =>
  i % 29 === 7
    ? null
    : (i >> 5) % 4 === 3
      ? `x${(i >> 5) % 2}`
      : `a long repeated value, run ${(i >> 5) % 6} ✓`,
);
const oneStr: Array<string | null> = Array.from(
  { length: M },
  () => "data/orders.csv, the same file for every row",
);
for (let i = 0; i < M; i++) {
  big[i] =
    i % 9 === 0
      ? Number.NaN
      : i === 1
        ? Number.MAX_SAFE_INTEGER
        : i === 2
          ? -Number.MAX_SAFE_INTEGER
          : i % 4 === 0
            ? -(i * 1_000_003) - 0.5
            : i * 4_294_967_311 + 0.5;
  ms[i] = i % 13 === 0 ? Number.NaN : (i % 2 ? 1 : -1) * i * 86_400_123.25;
  flag[i] = i % 17 === 0 ? Number.NaN : i % 3;
  asInt[i] = i % 19 === 0 ? Number.NaN : (i - 2500) * 1000.5;
  codes[i] = i % 10 === 0 ? 0 : 1 + ((i >> 3) % 3);
  strLists.push(Array.from({ length: i % 4 }, (_, k) => `${SYMBOLS[k % 3]}-${i}`));
}
const ab: AppendBatch = {
  rows: M,
  columns: [
    { type: "double", values: big },
    { type: "double", values: ms },
    { type: "double", values: flag },
    { type: "double", values: asInt },
    { type: "integer", values: int },
    { type: "double", values: dbl },
    { type: "varchar", values: str },
    { type: "varchar", values: str.map((v, i) => (v === null ? null : JSON.stringify({ i, v }))) },
    { type: "symbols", codes, symbols: SYMBOLS },
    { type: "symbols", codes: oneCodes, symbols: SYMBOLS },
    {
      type: "varchar_list",
      offsets: Uint32Array.from({ length: M + 1 }, (_, i) =>
        strLists.slice(0, i).reduce((n, l) => n + l.length, 0),
      ),
      values: strLists.flat(),
    },
    { type: "usmallint_list", ...flat(idxLists, (n) => new Uint16Array(n)) },
    { type: "ubigint_list", ...flat(cntLists, (n) => new Float64Array(n)) },
    { type: "double_list", ...flat(dblLists, (n) => new Float64Array(n)) },
    { type: "varchar", values: rep },
    { type: "varchar", values: oneStr },
  ],
};
// Rolled back: nothing stays.
await a.run("BEGIN TRANSACTION");
app.append(ab);
await a.run("ROLLBACK");
const [rolledBack] = await a.all("SELECT count(*) AS n FROM x");
// A batch that fails in its last chunk (a negative count) fails whole: nothing of it stays buffered.
const outOfRange = (() => {
  try {
    app.append({
      ...ab,
      columns: ab.columns.map((c) =>
        c.type === "ubigint_list"
          ? { ...c, values: c.values.map((x, j, all) => (j === all.length - 1 ? -1 : x)) }
          : c,
      ),
    });
    return "accepted";
  } catch (e) {
    return (e as Error).message.includes("ubigint_list") ? "refused" : (e as Error).message;
  }
})();
// A symbol code beyond its list, after rows that set their first occurrence: refused, and the
// next batch (into the same reused data chunk) comes out whole (checked row by row below).
const badSymbol = (() => {
  try {
    app.append({
      ...ab,
      columns: ab.columns.map((c) =>
        c.type === "symbols" && c.codes === codes
          ? { ...c, codes: codes.map((x, j) => (j === 100 ? 99 : x)) }
          : c,
      ),
    });
    return "accepted";
  } catch (e) {
    return (e as Error).message.includes("symbol code 99") ? "refused" : (e as Error).message;
  }
})();
const wrongShape = (() => {
  try {
    app.append({ rows: 1, columns: ab.columns.slice(1) });
    return "accepted";
  } catch (e) {
    return (e as Error).message;
  }
})();
await a.run("BEGIN TRANSACTION");
app.append(ab);
await a.run("COMMIT");
const back = await a.all(
  `SELECT CAST(b AS VARCHAR) AS b, epoch_us(t) AS t, f, i, j, d, s, CAST(y AS VARCHAR) AS y, sym, one, ls, li,
          CAST(lu AS VARCHAR[]) AS lu, ld, rep, one_str FROM x ORDER BY rowid`,
);
check("appended rows", back.length, M);
const sqlRound = (x: number) => (x < 0 ? -Math.round(-x) : Math.round(x));
for (let i = 0; i < back.length; i++) {
  const r = back[i];
  check(`b[${i}]`, r.b, Number.isNaN(big[i]) ? null : BigInt(sqlRound(big[i])).toString());
  check(`t[${i}]`, r.t, Number.isNaN(ms[i]) ? null : sqlRound(ms[i] * 1000));
  check(`f[${i}]`, r.f, Number.isNaN(flag[i]) ? null : flag[i] !== 0);
  check(`i[${i}]`, r.i, Number.isNaN(asInt[i]) ? null : sqlRound(asInt[i]));
  check(`j[${i}]`, r.j, int[i]);
  check(`d[${i}]`, r.d, Number.isNaN(dbl[i]) ? null : dbl[i]);
  check(`s[${i}]`, r.s, str[i]);
  check(`y[${i}]`, r.y, str[i] === null ? null : JSON.stringify({ i, v: str[i] }));
  check(`sym[${i}]`, r.sym, codes[i] === 0 ? null : SYMBOLS[codes[i] - 1]);
  check(`one[${i}]`, r.one, oneCodes[i] === 0 ? null : SYMBOLS[oneCodes[i] - 1]);
  check(`ls[${i}]`, r.ls, strLists[i]);
  check(`li[${i}]`, r.li, idxLists[i]);
  check(
    `lu[${i}]`,
    r.lu,
    cntLists[i].map((x) => BigInt(x).toString()),
  );
  check(`ld[${i}]`, r.ld, dblLists[i]);
  check(`rep[${i}]`, r.rep, rep[i]);
  check(`one_str[${i}]`, r.one_str, oneStr[i]);
}
// Whole numbers beyond 2^53 are exact up to the column's range; beyond it (or infinite) they are NULL.
await a.run("CREATE TABLE w (b BIGINT, i INTEGER)");
const wapp = await a.appender("w");
await a.run("BEGIN TRANSACTION");
wapp.append({
  rows: 6,
  columns: [
    {
      type: "double",
      values: Float64Array.from([
        2 ** 60,
        -(2 ** 63),
        2 ** 63,
        Number.POSITIVE_INFINITY,
        -(2 ** 70),
        2 ** 53 + 2,
      ]),
    },
    {
      type: "double",
      values: Float64Array.from([2 ** 31 - 1, -(2 ** 31), 2 ** 31, -2.5, 1e12, Number.NEGATIVE_INFINITY]),
    },
  ],
});
await a.run("COMMIT");
wapp.close();
const ranges = (await a.all("SELECT CAST(b AS VARCHAR) AS b, i FROM w ORDER BY rowid")).map((r) => [
  r.b,
  r.i,
]);
await a.run("CREATE TABLE z (day DATE)");
const unsupported = await a.appender("z").then(
  () => "accepted",
  (e: Error) => e.message,
);
app.close();
a.close();
adb.close();
const appended = {
  rolledBack: rolledBack.n,
  outOfRange,
  badSymbol,
  wrongShape,
  unsupported,
  rows: back.length,
  ranges,
};

console.log(JSON.stringify({ mismatches, sums, refused, after, total, appended }));
