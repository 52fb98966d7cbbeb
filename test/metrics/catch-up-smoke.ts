/**
 * Runs on node, bun and deno (see catch-up-runtimes.test.ts). `fresh HOME`:
 * journals two runs, makes the first unreadable (a newer format), catches up
 * and prints what was loaded and warned. `held HOME`: the store is held by
 * another process; opens it as a copy and prints what the copy holds and
 * whether the copy is gone after close. One JSON line each. `served HOME`:
 * the store is held; a `ServedStore` serves a copy, prints `{"stale":true}`,
 * and after a line on stdin (the holder is gone) refreshes and prints what it
 * serves then.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runJournaled } from "../../src/journal/run-journal.ts";
import { openCaughtUp } from "../../src/metrics/catch-up.ts";
import { ServedStore } from "../../src/metrics/served-store.ts";
import { map } from "../../src/operators/index.ts";
import { pipeline } from "../../src/pipeline/pipeline.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";

const [mode, home] = process.argv.slice(2);
const numbers = (name: string, n: number) =>
  pipeline(name)
    .from(iterable(Array.from({ length: n }, (_, i) => i)))
    .via(map((x: number) => ({ x })))
    .to(collect());

if (mode === "fresh") {
  await runJournaled(numbers("alpha", 30), { home, sampleResources: false });
  await runJournaled(numbers("beta", 40), { home, sampleResources: false });
  const runDir = join(home, "alpha", readdirSync(join(home, "alpha")).filter((d) => /^\d/.test(d))[0]);
  const dir = join(runDir, "journal");
  const seg = join(dir, readdirSync(dir).filter((f) => f.endsWith(".seg"))[0]);
  const bytes = readFileSync(seg);
  bytes[8] = 99;
  writeFileSync(seg, bytes);
  const warnings: string[] = [];
  const { store, caughtUp } = await openCaughtUp(home, { onWarning: (m) => warnings.push(m) });
  const runs = (await store.query("SELECT pipeline, rows_in FROM runs")).rows;
  await store.close();
  console.log(
    JSON.stringify({
      runs: caughtUp?.runs,
      skipped: caughtUp?.skipped,
      loaded: runs,
      warnings: warnings.map((w) => w.replace(/^run \S+ /, "run * ").slice(0, 70)),
    }),
  );
} else if (mode === "served") {
  let freed = 0;
  const served = await ServedStore.open(home, { waitMs: 100, onFreed: () => freed++ });
  const copy = await served.use(async (s) => s.path);
  console.log(JSON.stringify({ stale: served.stale !== undefined }));
  await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
  await served.refresh();
  const runs = await served.use(async (s) => (await s.query("SELECT pipeline, rows_in FROM runs")).rows);
  const path = await served.use(async (s) => s.path);
  await served.close();
  console.log(
    JSON.stringify({
      stale: served.stale !== undefined,
      freed,
      store: path === join(home, "metrics.duckdb"),
      loaded: runs,
      copyRemoved: !existsSync(copy),
    }),
  );
  process.exit(0);
} else {
  const { store, caughtUp, stale } = await openCaughtUp(home, { waitMs: 100 });
  const runs = (await store.query("SELECT pipeline, rows_in FROM runs")).rows;
  const copy = store.path;
  await store.close();
  console.log(
    JSON.stringify({
      caughtUp: caughtUp ?? null,
      stale: stale?.replace(/process \d+/, "process *").replace(/^\S+/, "*"),
      loaded: runs,
      copyRemoved: !existsSync(copy),
    }),
  );
}
