/**
 * Child process for the crash test: writes the first `stop` events of a run
 * into the store (flushing every 50), starts one more flush and is killed by
 * SIGKILL while it may be in progress. Usage: kill-writer.ts HOME RUN_ID STOP
 */
import { openMetricsStore } from "../../src/metrics/store.ts";
import { runEvents } from "./fixtures.ts";

const [home, runId, stop] = process.argv.slice(2);
const store = await openMetricsStore(home, { flushIntervalMs: 3_600_000 });
const events = runEvents(runId);
for (let i = 0; i < Number(stop); i++) {
  store.add(events[i]);
  if (i % 50 === 49) await store.flush();
}
void store.flush();
process.stdout.write("killing\n");
process.kill(process.pid, "SIGKILL");
