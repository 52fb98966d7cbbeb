// The Parquet benchmark's pipeline (`benchmarks/parquet.bench.ts`): $PQ_FILE read with
// columns id and amount and the `where` in $PQ_WHERE (JSON), counted by a sink that keeps
// nothing (rows and the sum of id): what a user's `sluice run` costs, start-up included.
import process from "node:process";
import { pipeline, type Sink, SinkTypeId } from "sluice";
import { parquet } from "sluice/sources";

type Row = { id: number; amount: number };

const count: Sink<Row> = {
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
        for (let i = 0; i < records.length; i++) checksum += records[i].id;
        rows += records.length;
      },
      commit: () => rows,
      async close() {
        process.stdout.write(`${JSON.stringify({ rows, checksum })}\n`);
      },
    };
  },
};

export default pipeline("parquet-bench")
  .from(
    parquet<Row>(process.env.PQ_FILE ?? "data.parquet", {
      columns: ["id", "amount"],
      where: JSON.parse(process.env.PQ_WHERE ?? "{}"),
    }),
  )
  .to(count);
