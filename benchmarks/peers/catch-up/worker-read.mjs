// An experiment kept for its figure (benchmarks/RESULTS.md, "Catch-up, 2026-12-07, fifth
// session"): is a catch-up faster when the journals are read on a second thread? In one fresh
// process, `--mode base` catches a copy of the state directory $STATE up as `sluice sql` does
// (`catchUp`, sluice's built modules); `--mode worker` reads the same journals on a worker thread
// (`readRunEventBatches`, numbered as `catchUp` numbers them) and posts each batch of events to
// this thread, which ingests them into the store (`ingestBatches`). Prints one JSON line: the
// events and the ingest's wall and CPU seconds (DuckDB's threads and the worker's included).
//
//   node benchmarks/peers/catch-up/worker-read.mjs --mode base|worker --state STATE
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

const dist = new URL("../../../dist/", import.meta.url);
if (!isMainThread) {
  const { listRunRefs, readRunEventBatches } = await import(new URL("journal/runs.js", dist).href);
  const { TRUSTED_KINDS } = await import(new URL("metrics/catch-up.js", dist).href);
  for (const ref of await listRunRefs(workerData.home)) {
    let seq = 0;
    for await (const batch of readRunEventBatches(ref.runDir, { trustKinds: TRUSTED_KINDS })) {
      const out = new Array(batch.length);
      for (let k = 0; k < batch.length; k++) {
        batch[k].event.seq = ++seq;
        out[k] = batch[k].event;
      }
      parentPort.postMessage(out);
    }
  }
  parentPort.postMessage(null);
} else {
  const { values } = parseArgs({ options: { mode: { type: "string" }, state: { type: "string" } } });
  if (!values.state || !["base", "worker"].includes(values.mode ?? ""))
    throw new Error("--mode base|worker --state STATE (a state directory with journals)");
  const home = mkdtempSync(join(process.platform === "linux" ? "/dev/shm" : tmpdir(), "sluice-wr-"));
  cpSync(values.state, home, { recursive: true, filter: (p) => !p.includes("metrics.duckdb") });
  const { openMetricsStore } = await import(new URL("metrics/store.js", dist).href);
  const { catchUp } = await import(new URL("metrics/catch-up.js", dist).href);
  const store = await openMetricsStore(home);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let events = 0;
  if (values.mode === "base") events = (await catchUp(store, home)).events;
  else {
    const worker = new Worker(new URL(import.meta.url), { workerData: { home } });
    const queue = [];
    let wake;
    let ended = false;
    worker.on("message", (m) => {
      if (m === null) ended = true;
      else queue.push(m);
      wake?.();
    });
    async function* batches() {
      for (;;) {
        if (queue.length > 0) {
          const b = queue.shift();
          events += b.length;
          yield b;
        } else if (ended) return;
        else await new Promise((resolve) => (wake = resolve));
      }
    }
    await store.ingestBatches(batches());
    await worker.terminate();
  }
  const c = process.cpuUsage(c0);
  const wallS = (performance.now() - t0) / 1000;
  await store.close();
  rmSync(home, { recursive: true, force: true });
  console.log(JSON.stringify({ mode: values.mode, events, wallS, cpuS: (c.user + c.system) / 1e6 }));
}
