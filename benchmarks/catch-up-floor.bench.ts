/**
 * @module The floor under the journal catch-up: how fast DuckDB itself takes
 * the rows a catch-up writes, with no journal reading and no JavaScript
 * values in the loop. One command, after a catch-up left a store:
 *
 *   node --import tsx benchmarks/catch-up-floor.bench.ts --store FILE [--rounds 3] [--all]
 *
 * `--store` is a metrics file a catch-up wrote (e.g. the `metrics.duckdb` of
 * the state directory `npm run bench:catch-up` leaves in
 * /dev/shm/sluice-catch-up/.sluice). Its `dead_letters` rows (the bulk of
 * what a run journals) are copied into an in-memory TEMP table and into an
 * NDJSON file (not timed); then, per round, each into an empty table of the
 * same columns in a fresh database file, timed to its COMMIT and then to a
 * CHECKPOINT (what closing the store does):
 *
 * - `INSERT…SELECT`: from the TEMP table: no client in the loop, the
 *   fastest any route can be;
 * - `INSERT…SELECT, WAL only`: the same with the automatic checkpoint
 *   (a COMMIT whose write-ahead log passes 16 MB checkpoints there and then,
 *   as the catch-up's does) put off to the CHECKPOINT: the commit column is
 *   then the log alone, the checkpoint column the compression into the file;
 * - `read_json`: `INSERT INTO t SELECT * FROM read_json(file, columns=…)`,
 *   the NDJSON route (DuckDB parses the text on its threads).
 *
 * With `--all`, every table of the store (raw, rollups, marks: all a catch-up
 * writes) is copied, from TEMP tables, in one transaction as the catch-up's
 * flush does (`INSERT…SELECT` only). Every route prints its CPU time (user +
 * sys of this process, DuckDB's threads included) beside its wall time: on
 * two cores a catch-up can take no less wall time than half of DuckDB's CPU
 * here plus its reading's, whatever it overlaps.
 *
 * The catch-up's own figure is `catch-up-component.bench.ts`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";

const { values } = parseArgs({
  options: {
    store: { type: "string" },
    rounds: { type: "string", default: "3" },
    all: { type: "boolean", default: false },
  },
});
if (!values.store) throw new Error("--store FILE (a metrics.duckdb a catch-up wrote) is needed");
const dir = mkdtempSync(join(tmpdir(), "sluice-cu-floor-"));
const ndjson = join(dir, "rows.ndjson");
const cpuS = (from: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1e6;
};
try {
  if (values.all) await allTables(resolve(values.store), Number(values.rounds));
  else await deadLetters(resolve(values.store), Number(values.rounds));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** `dead_letters` alone, by three routes. */
async function deadLetters(store: string, rounds: number): Promise<void> {
  const prep = await (await DuckDBInstance.create(":memory:")).connect();
  await prep.run(`ATTACH '${store}' AS s (READ_ONLY)`);
  await prep.run(`COPY (SELECT * FROM s.dead_letters) TO '${ndjson}' (FORMAT json)`);
  const cols = await prep.runAndReadAll(
    "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 's' AND table_name = 'dead_letters' ORDER BY column_index",
  );
  const columns = cols.getRowObjectsJS().map((r) => [String(r.column_name), String(r.data_type)]);
  const [{ n }] = (
    await prep.runAndReadAll("SELECT count(*)::INTEGER AS n FROM s.dead_letters")
  ).getRowObjectsJS();
  const rows = Number(n);
  const ddl = columns.map(([c, t]) => `"${c}" ${t}`).join(", ");
  const jsonColumns = `{${columns.map(([c, t]) => `'${c}': '${t}'`).join(", ")}}`;
  console.log(`# ${rows.toLocaleString("en")} dead_letters rows of ${store}`);
  console.log(
    "| round | route | load | commit s | checkpoint s | CPU s to checkpoint | rows/s to commit | rows/s to checkpoint |",
  );
  console.log("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (let round = 1; round <= rounds; round++) {
    for (const route of ["INSERT…SELECT", "INSERT…SELECT, WAL only", "read_json"]) {
      const file = join(dir, `t-${round}-${route.length}.duckdb`);
      rmSync(file, { force: true });
      const db = await DuckDBInstance.create(file);
      const conn = await db.connect();
      await conn.run(`ATTACH '${store}' AS s (READ_ONLY)`);
      await conn.run("CREATE TEMP TABLE src AS SELECT * FROM s.dead_letters");
      await conn.run(`CREATE TABLE t (${ddl})`);
      await conn.run("CHECKPOINT");
      // By default a COMMIT whose write-ahead log passes 16 MB checkpoints there and then.
      if (route.endsWith("WAL only")) await conn.run("SET checkpoint_threshold = '1GB'");
      const load = loadavg()[0];
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await conn.run("BEGIN TRANSACTION");
      if (route === "read_json")
        await conn.run(
          `INSERT INTO t SELECT * FROM read_json('${ndjson}', format = 'newline_delimited', columns = ${jsonColumns})`,
        );
      else await conn.run("INSERT INTO t SELECT * FROM src");
      await conn.run("COMMIT");
      const t1 = performance.now();
      await conn.run("CHECKPOINT");
      const t2 = performance.now();
      const cpu = cpuS(c0);
      const check = (await conn.runAndReadAll("SELECT count(*)::INTEGER AS n FROM t")).getRowObjectsJS()[0].n;
      if (Number(check) !== rows) throw new Error(`${route}: ${check} rows, expected ${rows}`);
      conn.closeSync();
      db.closeSync();
      const rate = (s: number) => Math.round(rows / s).toLocaleString("en");
      console.log(
        `| ${round} | ${route} | ${load.toFixed(2)} | ${((t1 - t0) / 1000).toFixed(3)} | ${((t2 - t1) / 1000).toFixed(3)} | ${cpu.toFixed(3)} | ${rate((t1 - t0) / 1000)} | ${rate((t2 - t0) / 1000)} |`,
      );
    }
  }
}

/** `--all`: every table of the store, from TEMP copies, in one transaction, then a CHECKPOINT. */
async function allTables(store: string, rounds: number): Promise<void> {
  const prep = await (await DuckDBInstance.create(":memory:")).connect();
  await prep.run(`ATTACH '${store}' AS s (READ_ONLY)`);
  const tables = (
    await prep.runAndReadAll(
      "SELECT table_name, estimated_size FROM duckdb_tables() WHERE database_name = 's' ORDER BY table_name",
    )
  )
    .getRowObjectsJS()
    .map((r) => String(r.table_name));
  let rows = 0;
  for (const t of tables) {
    const [{ n }] = (
      await prep.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM s."${t}"`)
    ).getRowObjectsJS();
    rows += Number(n);
  }
  prep.closeSync();
  console.log(`# every table of ${store}: ${tables.length} tables, ${rows.toLocaleString("en")} rows`);
  console.log("| round | load | commit s | checkpoint s | wall s | CPU s | rows/s to checkpoint |");
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (let round = 1; round <= rounds; round++) {
    const file = join(dir, `all-${round}.duckdb`);
    rmSync(file, { force: true });
    const db = await DuckDBInstance.create(file);
    const conn = await db.connect();
    await conn.run(`ATTACH '${store}' AS s (READ_ONLY)`);
    for (const t of tables) {
      await conn.run(`CREATE TEMP TABLE "src_${t}" AS SELECT * FROM s."${t}"`);
      await conn.run(`CREATE TABLE "${t}" AS SELECT * FROM s."${t}" LIMIT 0`);
    }
    await conn.run("DETACH s");
    await conn.run("CHECKPOINT");
    const load = loadavg()[0];
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await conn.run("BEGIN TRANSACTION");
    for (const t of tables) await conn.run(`INSERT INTO "${t}" SELECT * FROM "src_${t}"`);
    await conn.run("COMMIT");
    const t1 = performance.now();
    await conn.run("CHECKPOINT");
    const t2 = performance.now();
    const cpu = cpuS(c0);
    conn.closeSync();
    db.closeSync();
    console.log(
      `| ${round} | ${load.toFixed(2)} | ${((t1 - t0) / 1000).toFixed(3)} | ${((t2 - t1) / 1000).toFixed(3)} | ${((t2 - t0) / 1000).toFixed(3)} | ${cpu.toFixed(3)} | ${Math.round(rows / ((t2 - t0) / 1000)).toLocaleString("en")} |`,
    );
  }
}
