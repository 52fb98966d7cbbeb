// The run-core benchmark's pipeline (`benchmarks/run-core.bench.ts`): the orders CSV at
// $RUN_CORE_CSV to records (no schema: every field decoded as a string), counted by a sink
// that keeps nothing: what a user's `sluice run` costs to read a file, start-up included.
import process from "node:process";
import { pipeline, type Sink, SinkTypeId } from "sluice";
import { csv } from "sluice/sources";

type Order = Record<string, string>;

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
        for (let i = 0; i < records.length; i++) checksum += records[i].note.length;
        rows += records.length;
      },
      commit: () => rows,
      async close() {
        process.stdout.write(`${JSON.stringify({ rows, checksum })}\n`);
      },
    };
  },
};

export default pipeline("run-core")
  .from(csv(process.env.RUN_CORE_CSV ?? "orders.csv"))
  .to(count);
