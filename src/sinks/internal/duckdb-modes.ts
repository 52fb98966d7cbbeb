/**
 * @module What each mode of the DuckDB sink adds to the shared commit
 * protocol (`duckdb-writer.ts`).
 *
 * - `replace`: rows go to a staging table of the run
 *   (`_sluice_stage_<table>_<run>`), committed at checkpoints like any other;
 *   a resumed run continues it. At close, one transaction drops the table,
 *   renames the staging table to it and drops stale staging tables of
 *   abandoned runs, so readers see the previous complete output until the
 *   new one replaces it whole. A crash after that transaction and before the
 *   run is marked ended leaves no staging table and a table holding exactly
 *   this run's rows: the resumed run sees that and does nothing.
 * - `upsert`: rows are appended to the table itself; in each checkpoint's
 *   transaction, rows with the key of a row this checkpoint added are
 *   deleted, except the newest (highest `_sluice_row` of this run). Replaying
 *   from a checkpoint after a crash writes the same rows again, so the merge
 *   ends where an uninterrupted run ends.
 */

import type { TableColumn, TableDatabase } from "../../duckdb/table.ts";
import { SinkError } from "../../pipeline/errors.ts";
import type { SinkContext, SinkWriter } from "../../pipeline/types.ts";
import { type ColumnType, quoteIdent, ROW_COLUMN, RUN_COLUMN } from "./duckdb-columns.ts";
import { checkSluiceColumns, ensureCommitsTable, openRowWriter, type Token } from "./duckdb-writer.ts";

const STAGE_PREFIX = "_sluice_stage_";

/** The staging table of `runId` for `table`. */
export function stagingTable(table: string, runId: string): string {
  return `${STAGE_PREFIX}${table}_${runId.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

export async function openReplace<A>(
  db: TableDatabase,
  table: string,
  given: Record<string, ColumnType> | undefined,
  ctx: SinkContext,
): Promise<SinkWriter<A>> {
  const where = `duckdb(${table}) in ${db.path}`;
  const staging = stagingTable(table, ctx.runId);
  const t = quoteIdent(table);
  const existing = await db.columns(table);
  if (existing) checkSluiceColumns(existing, where);
  const token = ctx.resumeToken as Token | undefined;
  if (token && token.rows > 0 && !(await db.columns(staging)) && existing) {
    const [c] = await db.rows(
      `SELECT count(*) AS total, count(*) FILTER (WHERE ${RUN_COLUMN} = $1) AS mine FROM ${t}`,
      [ctx.runId],
    );
    if (Number(c.total) === token.rows && Number(c.mine) === token.rows) return swapped(db, table, token);
  }
  return openRowWriter<A>(db, {
    table,
    into: staging,
    given,
    ctx,
    reconcile: true,
    async atClose(created) {
      const stale = await db.rows(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND starts_with(table_name, $1) AND table_name <> $2",
        [`${STAGE_PREFIX}${table}_`, staging],
      );
      for (const s of stale) await db.run(`DROP TABLE ${quoteIdent(String(s.table_name))}`);
      if (created) {
        await db.run(`DROP TABLE IF EXISTS ${t}`);
        await db.run(`ALTER TABLE ${quoteIdent(staging)} RENAME TO ${t}`);
      } else if (existing) {
        await db.run(`DELETE FROM ${t}`); // the run wrote no rows: the table holds none
      }
    },
  });
}

/** The swap already happened (a crash after it): the run's output is in place. */
function swapped<A>(db: TableDatabase, table: string, token: Token): SinkWriter<A> {
  return {
    target: `${db.path} (table ${table})`,
    write(chunk) {
      if (chunk.records.length > 0) {
        throw new SinkError(`duckdb(${table}): the run already completed its table, but more rows came`, {
          hint: "The run's input changed since it completed. Run again with --fresh.",
        });
      }
    },
    commit: (checkpoint): Token => ({ checkpoint, rows: token.rows }),
    async close() {
      db.close();
    },
    async abort() {
      db.close();
    },
  };
}

export async function openUpsert<A>(
  db: TableDatabase,
  table: string,
  key: readonly string[],
  given: Record<string, ColumnType> | undefined,
  ctx: SinkContext,
): Promise<SinkWriter<A>> {
  const where = `duckdb(${table}) in ${db.path}`;
  const t = quoteIdent(table);
  const same = key.map((k) => `n.${quoteIdent(k)} IS NOT DISTINCT FROM o.${quoteIdent(k)}`).join(" AND ");
  const isNew = (alias: string) => `${alias}.${RUN_COLUMN} = $1 AND ${alias}.${ROW_COLUMN} >= $2`;
  await ensureCommitsTable(db);
  return openRowWriter<A>(db, {
    table,
    into: table,
    given,
    ctx,
    reconcile: false,
    required: new Set(key),
    checkColumns(cols: readonly TableColumn[]) {
      const names = new Set(cols.map((c) => c.name));
      const missing = key.filter((k) => !names.has(k));
      if (missing.length) {
        throw new SinkError(`${where}: the upsert key ${missing.join(", ")} is not a column of the table`, {
          hint: `Columns: ${cols.map((c) => c.name).join(", ")}. Give key: one or more of them.`,
        });
      }
    },
    async atCommit(from) {
      // Every row sharing a key with a row of this checkpoint, except the newest of them
      // (a row left by a lost checkpoint and its replay tie on _sluice_row: keep one).
      await db.run(
        `DELETE FROM ${t} WHERE rowid IN (
          SELECT o.rowid FROM ${t} AS o
          WHERE EXISTS (SELECT 1 FROM ${t} AS n WHERE ${isNew("n")} AND ${same}
                          AND (NOT (${isNew("o")}) OR n.${ROW_COLUMN} > o.${ROW_COLUMN}
                               OR (n.${ROW_COLUMN} = o.${ROW_COLUMN} AND n.rowid > o.rowid))))`,
        [ctx.runId, from],
      );
    },
  });
}
