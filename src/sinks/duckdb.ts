/**
 * @module DuckDB table sink, exactly-once, in three modes. `replace` (the
 * default, like the file sinks, which rename a complete file into place):
 * after a run the table holds exactly that run's rows, swapped in atomically
 * when it completes. `append`: every run adds its rows. `upsert`: one row
 * per key, the newest wins. The commit protocol they share is in
 * `internal/duckdb-writer.ts` (rows and their `_sluice_commits` row in one
 * transaction; on resume, rows of a checkpoint that never reached the
 * journal are removed); what each mode adds is in `internal/duckdb-modes.ts`.
 * A redrive (`SinkContext.append`) writes a `replace` table as `append` does:
 * its rows join the first run's, each (run, row) once.
 */
import { z } from "zod";
import { openTableDatabase, type TableDatabase } from "../duckdb/table.ts";
import { describeError, SinkError } from "../pipeline/errors.ts";
import { parseComponentOptions } from "../pipeline/internal/options.ts";
import { type Sink, type SinkContext, SinkTypeId, type SinkWriter } from "../pipeline/types.ts";
import { fs, paths } from "../runtime/fs.ts";
import { COLUMN_TYPES, ROW_COLUMN, RUN_COLUMN } from "./internal/duckdb-columns.ts";
import { openReplace, openUpsert } from "./internal/duckdb-modes.ts";
import { openRowWriter } from "./internal/duckdb-writer.ts";

const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export const DuckDBSinkOptions = z
  .object({
    /** Table to write (created on first use). */
    table: z.string().regex(COLUMN_NAME, "letters, digits and _, not starting with a digit"),
    /** Database file; default `<state dir>/<pipeline>/output.duckdb`. */
    path: z.string().min(1).optional(),
    /** Column types; default: inferred from the first chunk (number → DOUBLE, object → JSON, …). */
    columns: z.record(z.string(), z.enum(COLUMN_TYPES)).optional(),
    /**
     * `replace` (default): the table holds exactly the latest completed run's
     * rows, swapped in when the run completes. `append`: each run adds its
     * rows. `upsert`: one row per `key`, the newest wins.
     */
    mode: z.enum(["replace", "append", "upsert"]).default("replace"),
    /** The upsert key: one column or several (only with `mode: "upsert"`). */
    key: z.union([z.string().regex(COLUMN_NAME), z.array(z.string().regex(COLUMN_NAME)).min(1)]).optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.mode === "upsert" && o.key === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["key"],
        message: 'mode "upsert" needs a key (a column or columns)',
      });
    if (o.mode !== "upsert" && o.key !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["key"],
        message: `key is only used with mode "upsert" (mode is "${o.mode}")`,
      });
    const keys = typeof o.key === "string" ? [o.key] : (o.key ?? []);
    for (const k of keys) {
      if (k === RUN_COLUMN || k === ROW_COLUMN)
        ctx.addIssue({ code: "custom", path: ["key"], message: `${k} is the sink's own column` });
      if (o.columns && !(k in o.columns))
        ctx.addIssue({ code: "custom", path: ["key"], message: `${k} is not one of the given columns` });
    }
  });

export type DuckDBSinkOptions = z.input<typeof DuckDBSinkOptions>;

/**
 * Writes records to a DuckDB table, exactly once across crashes and resumes.
 *
 * @example
 * ```ts
 * pipeline("orders").from(csv("data/orders.csv", { schema: Order })).to(duckdb({ table: "orders" }));
 * // later: duckdb .sluice/orders/output.duckdb "SELECT count(*) FROM orders"  (the latest run's rows)
 * pipeline("users").from(ndjson("users.ndjson")).to(duckdb({ table: "users", mode: "upsert", key: "id" }));
 * ```
 */
export function duckdb<A = unknown>(options: DuckDBSinkOptions): Sink<A> {
  const o = parseComponentOptions("duckdb()", DuckDBSinkOptions, options);
  return {
    [SinkTypeId]: true,
    name: `duckdb(${o.table})`,
    delivery: "exactly-once",
    appends: true,
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
        return await openMode<A>(db, o, ctx);
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

function openMode<A>(
  db: TableDatabase,
  o: z.output<typeof DuckDBSinkOptions>,
  ctx: SinkContext,
): Promise<SinkWriter<A>> {
  // A redrive (`ctx.append`) adds its rows to a replace-mode table, as append mode does.
  if (o.mode === "replace" && !ctx.append) return openReplace(db, o.table, o.columns, ctx);
  if (o.mode === "upsert") {
    const key = typeof o.key === "string" ? [o.key] : (o.key ?? []);
    return openUpsert(db, o.table, key, o.columns, ctx);
  }
  return openRowWriter(db, { table: o.table, into: o.table, given: o.columns, ctx, reconcile: true });
}
