/**
 * @module DuckDB table sink, exactly-once. Rows are bulk-appended (the
 * Appender, in data chunks) inside an open transaction; at each checkpoint
 * the sink records `(table, run, checkpoint, rows)` in `_sluice_commits` in
 * that same transaction and commits, so the rows of a checkpoint and the
 * record that they are in become durable together or not at all. Each row
 * carries `_sluice_run` and `_sluice_row` (its position in the run's
 * output). On resume the sink deletes this run's rows at or above the row
 * count of the checkpoint it resumes from — rows committed by a checkpoint
 * that was never journaled (a crash between the two) — and appends from
 * there, so the table ends up exactly as an uninterrupted run leaves it.
 */
import { z } from "zod";
import {
  openTableDatabase,
  type TableAppender,
  type TableColumn,
  type TableDatabase,
} from "../duckdb/table.ts";
import type { Chunk } from "../pipeline/chunk.ts";
import { ConfigError, describeError, SinkError } from "../pipeline/errors.ts";
import { type Sink, type SinkContext, SinkTypeId, type SinkWriter } from "../pipeline/types.ts";
import { fs, paths } from "../runtime/fs.ts";
import {
  COLUMN_TYPES,
  type ColumnDef,
  createTableSql,
  inferColumns,
  quoteIdent,
  ROW_COLUMN,
  RUN_COLUMN,
  toColumns,
} from "./internal/duckdb-columns.ts";

export const DuckDBSinkOptions = z
  .object({
    /** Table to append to (created on first use). */
    table: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, "letters, digits and _, not starting with a digit"),
    /** Database file; default `<state dir>/<pipeline>/output.duckdb`. */
    path: z.string().min(1).optional(),
    /** Column types; default: inferred from the first chunk (number → DOUBLE, object → JSON, …). */
    columns: z.record(z.string(), z.enum(COLUMN_TYPES)).optional(),
  })
  .strict();

export type DuckDBSinkOptions = z.input<typeof DuckDBSinkOptions>;

interface Token {
  readonly checkpoint: number;
  /** Rows of this run in the table at that checkpoint. */
  readonly rows: number;
}

const COMMITS = "_sluice_commits";

/**
 * Appends records to a DuckDB table, exactly once across crashes and resumes.
 *
 * @example
 * ```ts
 * pipeline("orders").from(csv("data/orders.csv", { schema: Order })).to(duckdb({ table: "orders" }));
 * // later: duckdb .sluice/orders/output.duckdb "SELECT count(*) FROM orders"
 * ```
 */
export function duckdb<A = unknown>(options: DuckDBSinkOptions): Sink<A> {
  const parsed = DuckDBSinkOptions.safeParse(options);
  if (!parsed.success) {
    throw new ConfigError(
      `duckdb() options: ${parsed.error.issues.map((i) => `${i.path.join(".") || "options"}: ${i.message}`).join("; ")}`,
      { hint: "Allowed options: table (required), path, columns." },
    );
  }
  const o = parsed.data;
  return {
    [SinkTypeId]: true,
    name: `duckdb(${o.table})`,
    delivery: "exactly-once",
    async open(ctx: SinkContext): Promise<SinkWriter<A>> {
      const file = o.path ? paths.resolve(o.path) : paths.join(ctx.home, ctx.pipeline, "output.duckdb");
      let db: TableDatabase;
      try {
        await fs.mkdirp(paths.dirname(file));
        db = await openTableDatabase(file);
      } catch (e) {
        throw new SinkError(`duckdb: cannot open ${file}: ${describeError(e)}`, {
          cause: e,
          hint: "DuckDB allows one writing process per file: close other programs using it, or give the sink another path.",
        });
      }
      try {
        return await openWriter(db, o.table, o.columns, ctx);
      } catch (e) {
        await db.run("ROLLBACK").catch(() => {});
        db.close();
        throw e instanceof SinkError
          ? e
          : new SinkError(`duckdb(${o.table}) in ${file}: ${describeError(e)}`, { cause: e });
      }
    },
  };
}

async function openWriter<A>(
  db: TableDatabase,
  table: string,
  given: Record<string, (typeof COLUMN_TYPES)[number]> | undefined,
  ctx: SinkContext,
): Promise<SinkWriter<A>> {
  const where = `duckdb(${table}) in ${db.path}`;
  const token = ctx.resumeToken as Token | undefined;
  let rows = token?.rows ?? 0;
  await db.run(
    `CREATE TABLE IF NOT EXISTS ${COMMITS} (table_name VARCHAR, run_id VARCHAR, checkpoint_id BIGINT, rows BIGINT, committed_at TIMESTAMP)`,
  );
  let cols: readonly TableColumn[] | undefined = await db.columns(table);
  if (cols) {
    checkColumns(cols, where);
    await reconcile(db, table, ctx, token, where);
  } else if (rows > 0) {
    throw new SinkError(
      `${where}: cannot resume: the table is gone but checkpoint ${token?.checkpoint} committed ${rows} rows`,
      {
        hint: "The table or database file was removed. Run again with --fresh to start over.",
      },
    );
  }
  if (!cols && given) {
    await db.run(
      createTableSql(
        table,
        Object.entries(given).map(([name, type]) => ({ name, type })),
      ),
    );
    cols = await db.columns(table);
  }
  await db.run("BEGIN TRANSACTION");
  let appender: TableAppender | undefined = cols ? await db.appender(table) : undefined;

  const firstChunk = async (records: ReadonlyArray<unknown>): Promise<readonly TableColumn[]> => {
    const defs: ColumnDef[] = inferColumns(records);
    await db.run(createTableSql(table, defs));
    const created = (await db.columns(table)) ?? [];
    appender = await db.appender(table);
    return created;
  };

  const append = (chunk: Chunk<A>, table: readonly TableColumn[]) => {
    const out = toColumns(chunk.records, table, ctx.runId, rows, (index, reason) =>
      ctx.deadLetter({
        reason: `${where}: ${reason}`,
        record: chunk.records[index],
        position: { chunk: chunk.seq, index },
      }),
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
      await db.run(`INSERT INTO ${COMMITS} VALUES ($1, $2, $3, $4, epoch_ms(CAST($5 AS BIGINT)))`, [
        table,
        ctx.runId,
        checkpointId,
        rows,
        Math.round(ctx.clock.now()),
      ]);
      await db.run("COMMIT");
      await db.run("BEGIN TRANSACTION");
      if (cols) appender = await db.appender(table);
      return { checkpoint: checkpointId, rows } satisfies Token;
    },
    async close() {
      appender?.close();
      appender = undefined;
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

function checkColumns(cols: readonly TableColumn[], where: string): void {
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

/** Removes this run's rows above the checkpoint being resumed from (committed, but never journaled). */
async function reconcile(
  db: TableDatabase,
  table: string,
  ctx: SinkContext,
  token: Token | undefined,
  where: string,
): Promise<void> {
  const rows = token?.rows ?? 0;
  const checkpoint = token?.checkpoint ?? 0;
  const t = quoteIdent(table);
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
  await db.run(`DELETE FROM ${COMMITS} WHERE table_name = $1 AND run_id = $2 AND checkpoint_id > $3`, [
    table,
    ctx.runId,
    checkpoint,
  ]);
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
