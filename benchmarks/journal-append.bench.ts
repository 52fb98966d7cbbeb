/**
 * @module Journal append throughput per fsync policy, with ~200-byte event objects.
 *
 *   node --import tsx benchmarks/journal-append.bench.ts [--records N] [--strict N] [--dir PATH]
 *   node_modules/.bin/bun benchmarks/journal-append.bench.ts
 *   node_modules/.bin/deno run -A benchmarks/journal-append.bench.ts
 *
 * Scenarios (each in a fresh journal directory under `benchmarks/data/`, on the real disk, so
 * fsync costs what it costs there):
 * - `always, awaited`: append then `await sync()` for every record: one write + one fsync each,
 *   what a caller that needs each record durable before going on pays.
 * - `always, burst`: append in a loop, `await sync()` at the end: appends made while an fsync is
 *   in flight share the next one (group commit).
 * - `checkpoint`: `await sync()` every 1000 records, as the engine does at checkpoints.
 * - `interval`: the system clock ticks every 100 ms; `await sync()` once at the end.
 * Then a full read and a `lastOfKind("Checkpoint")` over the `checkpoint` journal, and a resume
 * lookup over a journal of 4 MiB segments whose only checkpoint is near the start (segment
 * summaries against a full `lastMatching` scan).
 */
import { rmSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { type JournalOptions, openJournal } from "../src/journal/index.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const dirArg = process.argv.indexOf("--dir");
const root =
  dirArg === -1 ? fileURLToPath(new URL("./data/journal-append", import.meta.url)) : process.argv[dirArg + 1];
const RECORDS = arg("records", 200_000);
const STRICT = arg("strict", 2_000);
const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
const runtime = g.Bun
  ? `bun ${g.Bun.version}`
  : g.Deno
    ? `deno ${g.Deno.version.deno}`
    : `node ${process.version}`;

/** ~200 bytes once MessagePack-encoded, shaped like a chunk-progress event. */
function eventAt(i: number): Record<string, unknown> {
  return {
    kind: i % 1000 === 999 ? "Checkpoint" : "ChunkProgress",
    runId: "run-2024-06-01T12:00:00Z-7f3a",
    stage: "score",
    seq: i,
    rows: 1024,
    bytes: 131_072 + (i % 97),
    offset: { file: "data/orders.csv", start: i * 131_072, end: (i + 1) * 131_072 },
    latencyMs: 12.5 + (i % 13),
    at: 1_717_243_200_000 + i,
    note: "ok",
  };
}

interface Row {
  scenario: string;
  records: number;
  seconds: number;
  bytes: number;
}
const rows: Row[] = [];

async function scenario(
  name: string,
  options: JournalOptions,
  count: number,
  body: (append: (i: number) => void, sync: () => Promise<void>) => Promise<void>,
): Promise<string> {
  const dir = `${root}/${name.replace(/[^a-z]+/g, "-")}`;
  rmSync(dir, { recursive: true, force: true });
  const journal = await openJournal(dir, options);
  const start = performance.now();
  await body(
    (i) => {
      journal.append(eventAt(i));
    },
    () => journal.sync(),
  );
  const seconds = (performance.now() - start) / 1000;
  const bytes = journal.end.segment + journal.end.offset;
  await journal.close();
  rows.push({ scenario: name, records: count, seconds, bytes });
  return dir;
}

const strictDir = await scenario("always, awaited", { fsync: "always" }, STRICT, async (append, sync) => {
  for (let i = 0; i < STRICT; i++) {
    append(i);
    await sync();
  }
});
const burstDir = await scenario("always, burst", { fsync: "always" }, RECORDS, async (append, sync) => {
  for (let i = 0; i < RECORDS; i++) {
    append(i);
    // Yield now and then so the writer's group commits interleave with appends.
    if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 0));
  }
  await sync();
});
const checkpointDir = await scenario("checkpoint (sync/1000)", {}, RECORDS, async (append, sync) => {
  for (let i = 0; i < RECORDS; i++) {
    append(i);
    if (i % 1000 === 999) await sync();
  }
  await sync();
});
const intervalDir = await scenario(
  "interval (100ms)",
  { fsync: "interval", fsyncInterval: "100ms" },
  RECORDS,
  async (append, sync) => {
    for (let i = 0; i < RECORDS; i++) {
      append(i);
      if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 0));
    }
    await sync();
  },
);

// Read side, over the checkpoint journal.
const reader = await openJournal(checkpointDir);
let start = performance.now();
let n = 0;
for await (const _ of reader.read()) n++;
const readSeconds = (performance.now() - start) / 1000;
start = performance.now();
const last = await reader.lastOfKind("Checkpoint");
const lastMs = performance.now() - start;
await reader.close();

// Resume over many segments: 4 MiB segments, the only checkpoint near the start.
const resumeDir = `${root}/resume`;
rmSync(resumeDir, { recursive: true, force: true });
const big = await openJournal(resumeDir, { segmentSize: "4MiB" });
for (let i = 0; i < RECORDS; i++) {
  const e = eventAt(i);
  e.kind = i === 10 ? "checkpoint" : "ChunkProgress";
  big.append(e);
}
await big.close();
const resume = await openJournal(resumeDir, { segmentSize: "4MiB" });
start = performance.now();
const early = await resume.lastOfKind("checkpoint");
const summaryMs = performance.now() - start;
start = performance.now();
await resume.lastMatching((v) => (v as { kind?: string }).kind === "checkpoint");
const scanMs = performance.now() - start;
const segmentCount = resume.recovery.segments;
await resume.close();
rmSync(resumeDir, { recursive: true, force: true });

console.log(`journal append, ${runtime}, ~${Math.round(rows[2].bytes / RECORDS)} B/record on disk`);
console.log("scenario                  records   records/s      MB/s");
for (const r of rows) {
  const rate = r.records / r.seconds;
  console.log(
    `${r.scenario.padEnd(24)} ${String(r.records).padStart(8)} ${rate.toFixed(0).padStart(11)} ${(r.bytes / r.seconds / 1e6).toFixed(1).padStart(9)}`,
  );
}
console.log(`read all                 ${String(n).padStart(8)} ${(n / readSeconds).toFixed(0).padStart(11)}`);
console.log(
  `lastOfKind("Checkpoint") at seq ${(last?.value as { seq?: number })?.seq}: ${lastMs.toFixed(1)} ms`,
);
console.log(
  `resume, ${segmentCount} segments of 4 MiB, checkpoint at seq ${(early?.value as { seq?: number })?.seq}: ` +
    `lastOfKind ${summaryMs.toFixed(1)} ms (segment summaries), lastMatching ${scanMs.toFixed(0)} ms (full scan)`,
);
for (const dir of [strictDir, burstDir, checkpointDir, intervalDir])
  rmSync(dir, { recursive: true, force: true });
