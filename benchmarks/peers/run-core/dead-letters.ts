// The catch-up benchmark's pipeline (`benchmarks/catch-up.bench.ts`): the orders CSV at
// $RUN_CORE_CSV, validated by a zod schema (the generator's bad rows — 5% with
// badEvery 20, ragged or with a bad amount — go to the dead letter), to NDJSON: the mix of
// events a real run journals.
import process from "node:process";
import { pipeline } from "sluice";
import { ndjson } from "sluice/sinks";
import { csv } from "sluice/sources";
import { z } from "zod";

const Order = z.object({
  id: z.coerce.number().int(),
  user: z.string(),
  category: z.string(),
  amount: z.coerce.number(),
  ts: z.string(),
  note: z.string(),
});

export default pipeline("catch-up")
  .from(csv(process.env.RUN_CORE_CSV ?? "orders.csv", { schema: Order }))
  .to(ndjson("out/catch-up.ndjson"));
