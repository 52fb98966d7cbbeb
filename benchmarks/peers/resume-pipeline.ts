// The pipeline `benchmarks/journal.bench.ts` kills and resumes through the CLI:
// CSV (no schema) → probe → filter → map → NDJSON, checkpoints every second (the default).
// The probe writes `{ t, id, sinceStart, loaded }` to $BENCH_MARK when the process sees its
// first record: wall-clock time, which record (after a resume, one far into the file),
// ms since the process started, and ms since start at which this file was loaded (so the
// CLI's own module loading can be told apart from the work of resuming).
import { writeFileSync } from "node:fs";
import process from "node:process";
import { type Operator, OperatorTypeId, pipeline } from "sluice";
import { filter, map } from "sluice/operators";
import { ndjson } from "sluice/sinks";
import { csv } from "sluice/sources";

type Order = Record<string, string>;
const mark = process.env.BENCH_MARK;
const loaded = performance.now();

const probe: Operator<Order, Order> = {
  [OperatorTypeId]: true,
  name: "probe",
  cardinality: "one",
  make: () => {
    let seen = false;
    return {
      type: "chunk",
      process(records) {
        if (!seen && records.length > 0 && mark) {
          seen = true;
          const sinceStart = performance.now();
          writeFileSync(
            mark,
            JSON.stringify({ t: Date.now(), id: Number(records[0].id), sinceStart, loaded }),
          );
        }
        return records;
      },
    };
  },
};

export default pipeline("bench-resume")
  .from(csv(process.env.BENCH_CSV ?? "data/orders.csv"))
  .via(
    probe,
    filter((o: Order) => o.category !== "test"),
    map((o: Order) => ({
      id: Number(o.id),
      user: o.user,
      category: o.category,
      cents: Math.round(Number(o.amount) * 100),
    })),
  )
  .to(ndjson(process.env.BENCH_OUT ?? "out/bench-resume.ndjson"));
