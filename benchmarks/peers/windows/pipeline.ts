// The windows benchmark's pipeline (`benchmarks/windows.bench.ts`): the events CSV at
// $WINDOWS_CSV (ts in epoch ms, key, amount; bounded disorder) into tumbling 1-minute
// windows per key (bound 30 s, lateness 1 m), counted by a sink that keeps nothing and
// prints the number of window rows, records and the sum of amounts.
import process from "node:process";
import { pipeline, type Sink, SinkTypeId } from "sluice";
import { window } from "sluice/operators";
import { csv } from "sluice/sources";

type Event = Record<string, string>;
type Row = { n: number; total: number };

const count: Sink<Row> = {
  [SinkTypeId]: true,
  name: "count",
  delivery: "at-least-once",
  async open() {
    let rows = 0;
    let records = 0;
    let sum = 0;
    return {
      target: "count",
      write(chunk) {
        for (const r of chunk.records) {
          records += r.n;
          sum += r.total;
        }
        rows += chunk.records.length;
      },
      commit: () => rows,
      async close() {
        process.stdout.write(`${JSON.stringify({ rows, records, sum })}\n`);
      },
    };
  },
};

export default pipeline("windows-bench")
  .from(csv(process.env.WINDOWS_CSV ?? "events.csv"))
  .via(
    window.tumbling("1m", {
      time: (e: Event) => Number(e.ts),
      watermark: { outOfOrder: "30s" },
      lateness: "1m",
      key: (e) => e.key,
      aggregate: { n: "count", total: ["sum", "amount"] },
    }),
  )
  .to(count as Sink<unknown>);
