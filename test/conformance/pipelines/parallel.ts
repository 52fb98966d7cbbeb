// Conformance: CSV → map → parallelMap on worker threads (with poison records) → NDJSON.
import { pipeline } from "sluice";
import { map, parallelMap } from "sluice/operators";
import { ndjson } from "sluice/sinks";
import { csv } from "sluice/sources";
import { ensureOrdersCsv } from "sluice/testing";

await ensureOrdersCsv("data/orders.csv", { rows: 8000, seed: 11, badEvery: 0 });

export default pipeline("conformance-parallel", { checkpoint: { rows: 1000 } })
  .from(csv("data/orders.csv"))
  .via(
    map((r) => ({ id: Number(r.id), user: r.user, cents: Math.round(Number(r.amount) * 100) })),
    parallelMap(new URL("./score.ts", import.meta.url), {
      workers: 2,
      retries: 1,
      backoff: { initial: 1, max: 2 },
    }),
  )
  .to(ndjson("out/scores.ndjson"));
