/**
 * Runs on node, bun and deno (see runtimes.test.ts): opens a metrics store in
 * HOME, ingests a run, queries views through the writer, closes, reopens it
 * read-only and queries again, then prints the figures as one JSON line.
 * Usage: runtime-smoke.ts HOME
 */
import { openMetricsStore } from "../../src/metrics/store.ts";
import { runEvents } from "./fixtures.ts";

const home = process.argv[2];
const writer = await openMetricsStore(home, { flushIntervalMs: 3_600_000 });
const ingested = await writer.ingest(runEvents("run-rt", 90));
const minute = await writer.query(
  "SELECT stage, epoch_ms(bucket) AS b, rows, p50_ms, p99_ms FROM stage_metrics_by(INTERVAL 1 MINUTE) ORDER BY stage, b",
);
const bottleneck = (await writer.bottlenecks("run-rt"))?.bottleneck;
const trends = (await writer.trends({ pipeline: "orders" })).map((t) => [
  t.stage,
  t.metric,
  t.runs,
  t.direction,
]);
await writer.close();

const reader = await openMetricsStore(home, { readOnly: true });
const runs = await reader.query("SELECT run_id, status, rows_in FROM runs");
const raw = await reader.query("SELECT count(*) AS n, max(p99_ms) AS p99 FROM stage_metrics");
const refused = await reader.query("DELETE FROM runs").then(
  () => "accepted",
  (e: Error) => e.name,
);
await reader.close();
console.log(
  JSON.stringify({
    accepted: ingested.accepted,
    minute: minute.rows,
    bottleneck,
    trends,
    runs: runs.rows,
    raw: raw.rows,
    refused,
  }),
);
