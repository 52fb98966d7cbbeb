// The Excel benchmark's pipeline (`benchmarks/excel.bench.ts`): the orders sheet of the .xlsx at
// $EXCEL_FILE to records (typed cells), counted by a sink that keeps nothing: what a user's
// `sluice run` costs to read a workbook, start-up included.
import process from "node:process";
import { pipeline, type Sink, SinkTypeId } from "sluice";
import { excel } from "sluice/sources";

type Order = { id: number; user: string; amount: number; ts: Date; ok: boolean };

const count: Sink<Order> = {
  [SinkTypeId]: true,
  name: "count",
  delivery: "at-least-once",
  async open() {
    let rows = 0;
    let checksum = 0;
    return {
      target: "count",
      write(chunk) {
        const records = chunk.records;
        for (let i = 0; i < records.length; i++) checksum += records[i].user.length;
        rows += records.length;
      },
      commit: () => rows,
      async close() {
        process.stdout.write(`${JSON.stringify({ rows, checksum })}\n`);
      },
    };
  },
};

export default pipeline("excel-bench")
  .from(excel(process.env.EXCEL_FILE ?? "orders.xlsx", { sheet: "Orders" }))
  .to(count);
