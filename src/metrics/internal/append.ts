/**
 * @module The writer's appender per table: the rows of a flush go straight
 * into the table (no SQL statement per batch), their batch columns built in
 * `storedColumns` order and reordered for a table whose columns a migration
 * appended in another order.
 */
import type { AppendBatch, Connection } from "../../duckdb/client.ts";
import { type ColumnSpec, storedColumns } from "./columns.ts";

export interface TableAppend {
  append(batch: AppendBatch): void;
  close(): void;
}

/**
 * An appender for `table`, whose batches are built in `specs` order
 * (`storedColumns`). A table whose columns a migration appended in another
 * order gets its batch columns reordered.
 */
export async function openAppend(
  conn: Connection,
  table: string,
  specs: readonly ColumnSpec[],
): Promise<TableAppend> {
  const appender = await conn.appender(table);
  const names = storedColumns(specs).map(([n]) => n);
  const order = appender.columns.map((c) => {
    const k = names.indexOf(c);
    if (k === -1) {
      throw new Error(
        `metrics table ${table} has a column ${c} this version of sluice does not write; move the metrics file aside (sluice starts a new one)`,
      );
    }
    return k;
  });
  const inOrder = order.length === names.length && order.every((k, i) => k === i);
  return {
    append: (batch) =>
      appender.append(inOrder ? batch : { rows: batch.rows, columns: order.map((k) => batch.columns[k]) }),
    close: () => appender.close(),
  };
}
