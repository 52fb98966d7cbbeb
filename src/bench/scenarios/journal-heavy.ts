/**
 * @module Built-in scenario `journal-heavy`: the orders pipeline with a
 * stateful dedupe (one order per user per hour) and aggregate, run with a
 * journal as `sluice run` runs it, a checkpoint every 100 ms (and every 2.5%
 * of the rows, so even tiny runs have many), killed with SIGKILL right after
 * its 5th durable checkpoint and resumed once in a new process. The totals
 * must equal those of a plain uninterrupted loop: nothing lost, nothing
 * doubled. Throughput counts both processes' work. No peers: none of them
 * can resume.
 */
import { aggregate } from "../../operators/aggregate.ts";
import { dedupe } from "../../operators/dedupe.ts";
import { filter } from "../../operators/filter.ts";
import { map } from "../../operators/map.ts";
import { pipeline } from "../../pipeline/pipeline.ts";
import { paths } from "../../runtime/fs.ts";
import { ndjson } from "../../sinks/ndjson.ts";
import { csv } from "../../sources/csv.ts";
import { scenario } from "../scenario.ts";
import {
  checkOrders,
  generateOrders,
  isRealSale,
  type Order,
  OrderSchema,
  type OrdersData,
  toSale,
  userHour,
} from "./orders.ts";
import { TOTALS_FILE, totalsOutcome } from "./totals-output.ts";

/** About 40 source chunks whatever the size, so every scale has checkpoints to kill after. */
function bufferSize(rows: number): number {
  return Math.min(1 << 20, Math.max(2048, Math.floor((rows * 60) / 40)));
}

export default scenario<OrdersData>({
  name: "journal-heavy",
  description:
    "orders → dedupe → map → filter → aggregate, journaled, checkpoint every 100 ms, kill -9 and resume once",
  sizes: { tiny: 4_000, small: 200_000, full: 1_000_000 },
  generate: (ctx) => generateOrders(ctx, { reference: "user-hour" }),
  pipeline: (d, ctx) =>
    pipeline("bench-journal-heavy", {
      checkpoint: { every: "100ms", rows: Math.max(50, Math.floor(d.rows / 40)) },
    })
      .from(csv(d.file, { schema: OrderSchema, bufferSize: bufferSize(d.rows) }))
      .via(
        dedupe((o: Order) => userHour(o)),
        map(toSale),
        filter(isRealSale),
        aggregate({ key: (s) => s.category, aggregate: { n: "count", cents: ["sum", "cents"] } }),
      )
      .to(ndjson(paths.join(ctx.outDir, TOTALS_FILE))),
  measure: {
    killAfterCheckpoints: 5,
    outcome: (summary, _d, ctx) => totalsOutcome(summary, ctx),
    check: checkOrders,
  },
});
