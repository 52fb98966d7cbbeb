/**
 * The main example: read orders from CSV (validated by a zod schema; bad rows
 * go to the dead letter with file:line and reason), drop test orders, add a
 * field, write NDJSON. `npm start` runs it; the sample data is generated on
 * first use.
 */
import { pipeline } from "sluice";
import { filter, map } from "sluice/operators";
import { ndjson } from "sluice/sinks";
import { csv } from "sluice/sources";
import { ensureOrdersCsv } from "sluice/testing";
import { z } from "zod";

const rows = Number(globalThis.process?.env?.ORDERS_ROWS ?? 500_000);
await ensureOrdersCsv("data/orders.csv", { rows });

const Order = z.object({
  id: z.coerce.number().int(),
  user: z.string(),
  category: z.string(),
  amount: z.coerce.number(),
  ts: z.string(),
  note: z.string(),
});

export default pipeline("orders")
  .from(csv("data/orders.csv", { schema: Order }))
  .via(
    filter((o) => o.category !== "test"),
    map((o) => ({ ...o, amountCents: Math.round(o.amount * 100) })),
  )
  .to(ndjson("out/orders.ndjson"));
