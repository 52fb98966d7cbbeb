/**
 * @module The floor under the journal catch-up: how fast DuckDB itself takes
 * the rows a catch-up writes, with no journal reading and no JavaScript
 * values in the loop. One command, after a catch-up left a store:
 *
 *   node --import tsx benchmarks/catch-up-floor.bench.ts --store FILE [--rounds 3]
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
 * The catch-up's own figure is `catch-up-component.bench.ts`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";

const { values } = parseArgs({
  options: { store: { type: "string" }, rounds: { type: "string", default: "3" } },
});
if (!values.store) throw new Error("--store FILE (a metrics.duckdb a catch-up wrote) is needed");
const dir = mkdtempSync(join(tmpdir(), "sluice-cu-floor-"));
const ndjson = join(dir, "rows.ndjson");
try {
  const prep = await (await DuckDBInstance.create(":memory:")).connect();
  await prep.run(`ATTACH '${resolve(values.store)}' AS s (READ_ONLY)`);
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
  console.log(`# ${rows.toLocaleString("en")} dead_letters rows of ${values.store}`);
  console.log("| round | route | load | commit s | checkpoint s | rows/s to commit | rows/s to checkpoint |");
  console.log("| ---: | --- | ---: | ---: | ---: | ---: | ---: |");
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const route of ["INSERT…SELECT", "INSERT…SELECT, WAL only", "read_json"]) {
      const file = join(dir, `t-${round}-${route.length}.duckdb`);
      rmSync(file, { force: true });
      const db = await DuckDBInstance.create(file);
      const conn = await db.connect();
      await conn.run(`ATTACH '${resolve(values.store)}' AS s (READ_ONLY)`);
      await conn.run("CREATE TEMP TABLE src AS SELECT * FROM s.dead_letters");
      await conn.run(`CREATE TABLE t (${ddl})`);
      await conn.run("CHECKPOINT");
      // By default a COMMIT whose write-ahead log passes 16 MB checkpoints there and then.
      if (route.endsWith("WAL only")) await conn.run("SET checkpoint_threshold = '1GB'");
      const load = loadavg()[0];
      const t0 = performance.now();
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
      const check = (await conn.runAndReadAll("SELECT count(*)::INTEGER AS n FROM t")).getRowObjectsJS()[0].n;
      if (Number(check) !== rows) throw new Error(`${route}: ${check} rows, expected ${rows}`);
      conn.closeSync();
      db.closeSync();
      const rate = (s: number) => Math.round(rows / s).toLocaleString("en");
      console.log(
        `| ${round} | ${route} | ${load.toFixed(2)} | ${((t1 - t0) / 1000).toFixed(3)} | ${((t2 - t1) / 1000).toFixed(3)} | ${rate((t1 - t0) / 1000)} | ${rate((t2 - t0) / 1000)} |`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
