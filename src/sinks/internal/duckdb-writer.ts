/**
 * @module The DuckDB sink's commit protocol, shared by its three modes. Rows
 * are bulk-appended (the Appender, in data chunks) to one table inside an
 * open transaction; at each checkpoint the writer records `(table, run,
 * checkpoint, rows)` in `_sluice_commits` in that same transaction and
 * commits, so the rows of a checkpoint and the record that they are in become
 * durable together or not at all. Each row carries `_sluice_run` and
 * `_sluice_row` (its position in the run's output).
 *
 * A mode plugs in where rows go (`into`: the table, or a run's staging
 * table), work done in a checkpoint's transaction before it commits
 * (`atCommit`: an upsert's merge) and in the last transaction (`atClose`: a
 * replace's swap), and whether resume removes this run's rows above the
 * checkpoint it resumes from (`reconcile`).
 */

import type { TableAppender, TableColumn, TableDatabase } from "../../duckdb/table.ts";
import type { Chunk } from "../../pipeline/chunk.ts";
import { SinkError } from "../../pipeline/errors.ts";
import type { SinkContext, SinkWriter } from "../../pipeline/types.ts";
import {
  COLUMN_TYPES,
  type ColumnDef,
  type ColumnType,
  createTableSql,
  inferColumns,
  quoteIdent,
  ROW_COLUMN,
  RUN_COLUMN,
  toColumns,
} from "./duckdb-columns.ts";

/** What the sink returns at a checkpoint (and gets back on resume). */
export interface Token {
  readonly checkpoint: number;
  /** Rows of this run written at that checkpoint. */
  readonly rows: number;
}

export const COMMITS = "_sluice_commits";

export interface WriterSpec {
  /** The user's table: in messages and in `_sluice_commits`. */
  readonly table: string;
  /** Where rows are appended. */
  readonly into: string;
  readonly given: Record<string, ColumnType> | undefined;
  readonly ctx: SinkContext;
  /** Remove this run's rows above the resumed checkpoint (append, replace). */
  readonly reconcile: boolean;
  /** Columns that must have a value (an upsert's key): records without go to the dead letter. */
  readonly required?: ReadonlySet<string>;
  /** Checks the columns of `into` once known (an upsert's key must be among them). */
  readonly checkColumns?: (cols: readonly TableColumn[]) => void;
  /** In a checkpoint's transaction, after its rows (from row `from` up) are appended. */
  readonly atCommit?: (from: number) => Promise<void>;
  /** In the last transaction, before it commits; `created` tells whether `into` exists. */
  readonly atClose?: (created: boolean) => Promise<void>;
}

export async function ensureCommitsTable(db: TableDatabase): Promise<void> {
  await db.run(
    `CREATE TABLE IF NOT EXISTS ${COMMITS} (table_name VARCHAR, run_id VARCHAR, checkpoint_id BIGINT, rows BIGINT, committed_at TIMESTAMP)`,
  );
}

export async function openRowWriter<A>(db: TableDatabase, spec: WriterSpec): Promise<SinkWriter<A>> {
  const { ctx, into, table } = spec;
  const where = `duckdb(${table}) in ${db.path}`;
  const token = ctx.resumeToken as Token | undefined;
  let rows = token?.rows ?? 0;
  let committed = rows;
  await ensureCommitsTable(db);
  let cols: readonly TableColumn[] | undefined = await db.columns(into);
  if (cols) {
    checkSluiceColumns(cols, where);
    spec.checkColumns?.(cols);
    if (spec.reconcile) await reconcile(db, spec, token, where);
  } else if (rows > 0) {
    throw new SinkError(
      `${where}: cannot resume: table ${into} is gone but checkpoint ${token?.checkpoint} committed ${rows} rows`,
      {
        hint: "The table or database file was removed. Run again with --fresh to start over.",
      },
    );
  }
  if (token && !spec.reconcile) await dropLaterCommits(db, table, ctx.runId, token.checkpoint);
  if (!cols && spec.given) {
    await db.run(
      createTableSql(
        into,
        Object.entries(spec.given).map(([name, type]) => ({ name, type })),
      ),
    );
    cols = await db.columns(into);
    if (cols) spec.checkColumns?.(cols);
  }
  await db.run("BEGIN TRANSACTION");
  let appender: TableAppender | undefined = cols ? await db.appender(into) : undefined;

  const firstChunk = async (records: ReadonlyArray<unknown>): Promise<readonly TableColumn[]> => {
    const defs: ColumnDef[] = inferColumns(records);
    await db.run(createTableSql(into, defs));
    const created = (await db.columns(into)) ?? [];
    spec.checkColumns?.(created);
    appender = await db.appender(into);
    return created;
  };

  const append = (chunk: Chunk<A>, columns: readonly TableColumn[]) => {
    const out = toColumns(
      chunk.records,
      columns,
      ctx.runId,
      rows,
      (index, reason) =>
        ctx.deadLetter({
          reason: `${where}: ${reason}`,
          record: chunk.records[index],
          position: { chunk: chunk.seq, index },
        }),
      spec.required,
    );
    if (out.rows > 0) appender?.append(out.columns, out.rows);
    rows += out.rows;
  };

  return {
    target: `${db.path} (table ${table})`,
    write(chunk) {
      if (chunk.records.length === 0) return;
      if (cols) return append(chunk, cols);
      return firstChunk(chunk.records).then((c) => {
        cols = c;
        append(chunk, c);
      });
    },
    async commit(checkpointId) {
      appender?.flush();
      appender?.close();
      appender = undefined;
      if (spec.atCommit && rows > committed) await spec.atCommit(committed);
      await db.run(`INSERT INTO ${COMMITS} VALUES ($1, $2, $3, $4, epoch_ms(CAST($5 AS BIGINT)))`, [
        table,
        ctx.runId,
        checkpointId,
        rows,
        Math.round(ctx.clock.now()),
      ]);
      await db.run("COMMIT");
      committed = rows;
      await db.run("BEGIN TRANSACTION");
      if (cols) appender = await db.appender(into);
      return { checkpoint: checkpointId, rows } satisfies Token;
    },
    async close() {
      appender?.close();
      appender = undefined;
      await spec.atClose?.(cols !== undefined);
      await db.run("COMMIT");
      db.close();
    },
    async abort() {
      try {
        appender?.close();
      } catch {
        // The rollback below discards whatever the appender held.
      }
      appender = undefined;
      await db.run("ROLLBACK").catch(() => {});
      db.close();
    },
  };
}

/** Refuses a table that sluice did not create, or with column types it cannot write. */
export function checkSluiceColumns(cols: readonly TableColumn[], where: string): void {
  const names = new Set(cols.map((c) => c.name));
  if (!names.has(RUN_COLUMN) || !names.has(ROW_COLUMN)) {
    throw new SinkError(
      `${where}: the table exists but was not created by sluice (no ${RUN_COLUMN}/${ROW_COLUMN} columns)`,
      {
        hint: `Use another table name, or add the columns: ALTER TABLE … ADD COLUMN ${RUN_COLUMN} VARCHAR; … ADD COLUMN ${ROW_COLUMN} BIGINT.`,
      },
    );
  }
  const odd = cols.filter((c) => !c.kind && c.name !== RUN_COLUMN && c.name !== ROW_COLUMN);
  if (odd.length) {
    throw new SinkError(
      `${where}: cannot write columns of type ${odd.map((c) => `${c.name} ${c.sqlType}`).join(", ")}`,
      {
        hint: `Supported column types: ${COLUMN_TYPES.join(", ")}, SMALLINT, TINYINT, FLOAT.`,
      },
    );
  }
}

async function dropLaterCommits(db: TableDatabase, table: string, runId: string, checkpoint: number) {
  await db.run(`DELETE FROM ${COMMITS} WHERE table_name = $1 AND run_id = $2 AND checkpoint_id > $3`, [
    table,
    runId,
    checkpoint,
  ]);
}

/** Removes this run's rows above the checkpoint being resumed from (committed, but never journaled). */
async function reconcile(
  db: TableDatabase,
  spec: WriterSpec,
  token: Token | undefined,
  where: string,
): Promise<void> {
  const { ctx } = spec;
  const rows = token?.rows ?? 0;
  const checkpoint = token?.checkpoint ?? 0;
  const t = quoteIdent(spec.into);
  await db.run("BEGIN TRANSACTION");
  const [{ n }] = await db.rows(`SELECT count(*) AS n FROM ${t} WHERE ${RUN_COLUMN} = $1`, [ctx.runId]);
  const have = Number(n);
  if (have < rows) {
    await db.run("ROLLBACK");
    throw new SinkError(
      `${where}: cannot resume: the table has ${have} rows of run ${ctx.runId} but checkpoint ${checkpoint} committed ${rows}`,
      {
        hint: "Rows were deleted from the table. Run again with --fresh to start over.",
      },
    );
  }
  if (have > rows) {
    await db.run(`DELETE FROM ${t} WHERE ${RUN_COLUMN} = $1 AND ${ROW_COLUMN} >= $2`, [ctx.runId, rows]);
  }
  await dropLaterCommits(db, spec.table, ctx.runId, checkpoint);
  await db.run("COMMIT");
  if (have > rows) {
    ctx.emit({
      kind: "log",
      level: "info",
      stage: "sink",
      message: `${where}: removed ${have - rows} rows of run ${ctx.runId} committed after checkpoint ${checkpoint} (that checkpoint was never journaled)`,
    });
  }
}
