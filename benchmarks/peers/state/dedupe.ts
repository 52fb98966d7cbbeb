// The state benchmark's CSV pipeline (`benchmarks/state.bench.ts`): the orders CSV at $STATE_CSV
// (its `id` column holds one distinct key a row) to NDJSON at $STATE_OUT, through
// `dedupe((o) => o.id)` unless STATE_DEDUPE=0, with a checkpoint every 250 ms. STATE_DEDUPE=set is
// the floor of any dedupe in JS: a `filter` over a plain `Set` (no snapshot, no spill, no bound).
import process from "node:process";
import { pipeline } from "sluice";
import { dedupe, filter, map } from "sluice/operators";
import { ndjson } from "sluice/sinks";
import { csv } from "sluice/sources";

type Order = Record<string, string>;

const base = pipeline("state-dedupe", { checkpoint: { every: "250ms" } }).from(
  csv(process.env.STATE_CSV ?? "orders.csv"),
);
const seen = new Set<string>();
const shaped =
  process.env.STATE_DEDUPE === "0"
    ? base.via(map((o: Order) => o))
    : process.env.STATE_DEDUPE === "set"
      ? base.via(filter((o: Order) => seen.size !== seen.add(o.id).size))
      : base.via(dedupe((o: Order) => o.id));
export default shaped.to(ndjson(process.env.STATE_OUT ?? "out/state.ndjson"));
