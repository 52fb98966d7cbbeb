/**
 * Child process for the crash tests: writes the first STOP events of a run
 * into the store, then is killed by SIGKILL.
 * - mode `mid-flush`: flushes every 50 events, starts one more flush and dies
 *   while it may be in progress;
 * - mode `busy`: keeps adding events while each flush is in progress (as a
 *   live bus does), and dies right after a flush completed, with the events
 *   added meanwhile never written.
 * Usage: kill-writer.ts HOME RUN_ID STOP MODE
 */
import { openMetricsStore } from "../../src/metrics/store.ts";
import { runEvents } from "./fixtures.ts";

const [home, runId, stop, mode] = process.argv.slice(2);
const store = await openMetricsStore(home, { flushIntervalMs: 3_600_000 });
const events = runEvents(runId);
let i = 0;
if (mode === "busy") {
  while (i + 47 <= Number(stop)) {
    for (let k = 0; k < 40; k++) store.add(events[i++]);
    const flushing = store.flush();
    // Let the flush take its batch and start writing, then add more meanwhile.
    await new Promise((r) => setTimeout(r, 0));
    for (let k = 0; k < 7; k++) store.add(events[i++]);
    await flushing;
  }
} else {
  for (; i < Number(stop); i++) {
    store.add(events[i]);
    if (i % 50 === 49) await store.flush();
  }
  void store.flush();
}
process.stdout.write("killing\n");
process.kill(process.pid, "SIGKILL");
