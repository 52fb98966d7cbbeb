// Conformance: CSV with a zod schema → filter → map → NDJSON, with dead letters.
import { pipeline } from "sluice";
import { filter, flatMap, map } from "sluice/operators";
import { ndjson } from "sluice/sinks";
import { csv } from "sluice/sources";
import { ensureOrdersCsv } from "sluice/testing";
import { z } from "zod";

await ensureOrdersCsv("data/orders.csv", { rows: 20_000, seed: 7, badEvery: 997 });

const Order = z.object({
  id: z.coerce.number().int(),
  user: z.string(),
  category: z.string(),
  amount: z.coerce.number(),
  ts: z.string(),
  note: z.string(),
});

export default pipeline("conformance-orders", { checkpoint: { rows: 3000 } })
  .from(csv("data/orders.csv", { schema: Order, bufferSize: "64KiB" }))
  .via(
    filter((o) => o.category !== "test"),
    map(async (o) => ({ id: o.id, user: o.user, cents: Math.round(o.amount * 100), note: o.note })),
    flatMap((o) => (o.note ? [o, { id: o.id, user: o.user, cents: 0, note: "annotated" }] : [o])),
  )
  .to(ndjson("out/orders.ndjson"));
