/**
 * @module Built-in scenario `metrics-heavy`: a pipeline that produces many
 * events — eight stages reporting every 100 ms, a checkpoint every 100 ms,
 * and one malformed row in twenty, each a durable dead-letter event — with
 * every event written to a DuckDB metrics store while it runs, as `sluice
 * run` does. Its peer `sluice-no-store` runs the same pipeline without the
 * store, so the ratio is what the metrics cost.
 */
import { aggregate } from "../../operators/aggregate.ts";
import { filter } from "../../operators/filter.ts";
import { map } from "../../operators/map.ts";
import { tap } from "../../operators/tap.ts";
import { pipeline } from "../../pipeline/pipeline.ts";
import { runPipeline } from "../../pipeline/run.ts";
import { paths } from "../../runtime/fs.ts";
import { ndjson } from "../../sinks/ndjson.ts";
import { csv } from "../../sources/csv.ts";
import { type BenchContext, scenario } from "../scenario.ts";
import {
  checkOrders,
  generateOrders,
  isRealSale,
  type Order,
  OrderSchema,
  type OrdersData,
  type Sale,
  toSale,
} from "./orders.ts";
import { TOTALS_FILE, totalsOutcome } from "./totals-output.ts";

function build(d: OrdersData, ctx: BenchContext) {
  return pipeline("bench-metrics-heavy", { metricsInterval: "100ms", checkpoint: { every: "100ms" } })
    .from(csv(d.file, { schema: OrderSchema, bufferSize: "64KiB" }))
    .via(
      tap((_o: Order) => {}),
      map(toSale),
      filter((s: Sale) => s.cents >= 0),
      map((s: Sale) => ({ ...s, hour: s.hour % 24 })),
      filter(isRealSale),
      tap((_s: Sale) => {}),
    )
    .via(
      map((s: Sale) => s),
      aggregate({ key: (s: Sale) => s.category, aggregate: { n: "count", cents: ["sum", "cents"] } }),
    )
    .to(ndjson(paths.join(ctx.outDir, TOTALS_FILE)));
}

export default scenario<OrdersData>({
  name: "metrics-heavy",
  description:
    "orders, 8 stages reporting every 100 ms, 5% dead letters, every event into a DuckDB metrics store",
  sizes: { tiny: 4_000, small: 200_000, full: 1_000_000 },
  generate: (ctx) => generateOrders(ctx, { badEvery: 20, reference: "plain" }),
  pipeline: build,
  measure: {
    metricsStore: true,
    outcome: (summary, _d, ctx) => totalsOutcome(summary, ctx),
    check: checkOrders,
  },
  peers: {
    "sluice-no-store": async (d, ctx) => {
      const summary = await runPipeline(build(d, ctx), { home: ctx.home });
      if (summary.error) throw summary.error;
      return totalsOutcome(summary, ctx);
    },
  },
});
