// The cluster benchmark's pipeline (`benchmarks/cluster.bench.ts`): the CSV at
// $CLUSTER_BENCH_INPUT (`id,amount`) → parallelMap of `work.ts` → NDJSON at $CLUSTER_BENCH_OUT.
// With $CLUSTER_BENCH_NATS set the map runs on the cluster (`sluice worker` processes pull its
// tasks); without it on $CLUSTER_BENCH_WORKERS local threads (default 1). The CPU per record is
// $CLUSTER_BENCH_WORK_US, read by `work.ts` in whichever process runs it; records per task (per
// message to a local thread) are $CLUSTER_BENCH_BATCH, default "auto".
import process from "node:process";
import { pipeline } from "sluice";
import { parallelMap } from "sluice/operators";
import { ndjson } from "sluice/sinks";
import { csv } from "sluice/sources";

const nats = process.env.CLUSTER_BENCH_NATS;
const workers = Number(process.env.CLUSTER_BENCH_WORKERS ?? 1);
const batch = process.env.CLUSTER_BENCH_BATCH ? Number(process.env.CLUSTER_BENCH_BATCH) : "auto";

export default pipeline("cluster-bench")
  .from(csv(process.env.CLUSTER_BENCH_INPUT ?? "input.csv"))
  .via(
    parallelMap(
      new URL("./work.ts", import.meta.url),
      nats ? { batch, cluster: { nats } } : { batch, workers },
    ),
  )
  .to(ndjson(process.env.CLUSTER_BENCH_OUT ?? "out.ndjson"));
