/**
 * @module CSV parsing throughput and memory: sluice's `CsvParser` against csv-parse and papaparse.
 *
 *   node --import tsx benchmarks/csv-parse.bench.ts [--rows N] [--runs R] [--only ours,papaparse]
 *   node_modules/.bin/bun benchmarks/csv-parse.bench.ts
 *   node_modules/.bin/deno run -A benchmarks/csv-parse.bench.ts
 *   node --import tsx benchmarks/csv-parse.bench.ts --node-flags "--max-semi-space-size=64"
 *
 * It writes a deterministic CSV (10 columns, ~100 bytes a row, some quoted fields with commas and
 * doubled quotes, a little non-ASCII text) into `benchmarks/data/` once, then reads it with each
 * implementation in its own child process of the same runtime, so peak RSS (VmHWM) belongs to one
 * implementation. Every reader handles 64 KiB of input at a time: the peers get Node's default
 * stream chunks (faster and smaller for both of them than 1 MiB chunks), and ours reads 1 MiB
 * buffers and pushes them to the parser in 64 KiB slices (`--push-kib`), which is how a source
 * should drive it: the records of one push are all alive until it returns, and V8's default young
 * generation copies them if a push holds many (`ours-1mib-push` shows the whole-buffer variant). Every reader materialises full objects (`header`/`columns`) and checksums two
 * columns, so a faster reader cannot win by parsing less or differently. Runs are interleaved and the
 * best of `--runs` (default 3) is kept, because this machine is shared; CPU time is shown next to
 * wall time for the same reason. A `baseline` child loads the runtime and reads nothing, for the
 * RSS every reader starts from. `--node-flags` passes V8 flags to every Node child alike: most of
 * the time of every reader here is young-generation GC, which `--max-semi-space-size` changes a lot.
 */
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs";
import { open } from "node:fs/promises";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { wideCsv } from "../src/bench/scenarios/wide-csv.ts";
import { CsvParser } from "../src/sources/internal/csv-parser.ts";
import type { BenchRow, ReadResult } from "./peers/csv-bench-types.ts";

const IMPLS = ["ours", "ours-1mib-push", "papaparse", "csv-parse"] as const;
type Impl = (typeof IMPLS)[number] | "baseline";
const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

interface ChildResult extends ReadResult {
  readonly impl: Impl;
  /** Wall time of the read. */
  readonly ms: number;
  /** CPU time (user + system) of the read: steadier than wall time on a shared machine. */
  readonly cpuMs: number;
  readonly peakRssMB: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

/** Our reader: one 1 MiB buffer reused for every read, pushed to the parser `pushBytes` at a time. */
async function readOurs(file: string, pushBytes: number): Promise<ReadResult> {
  const fh = await open(file, "r");
  const buf = new Uint8Array(1 << 20);
  const parser = new CsvParser({ header: true });
  let rows = 0;
  let checksum = 0;
  const take = (records: Record<string, string>[]) => {
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as unknown as BenchRow;
      checksum = (checksum + r.note.length + r.email.length) | 0;
    }
    rows += records.length;
  };
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    for (let at = 0; at < bytesRead; at += pushBytes) {
      const batch = parser.push(buf.subarray(at, Math.min(bytesRead, at + pushBytes)));
      if (batch.errors.length > 0) throw new Error(`unexpected row error: ${batch.errors[0].reason}`);
      take(batch.records);
    }
  }
  take(parser.finish().records);
  await fh.close();
  return { rows, checksum };
}

async function readWith(impl: Impl, file: string): Promise<ReadResult> {
  if (impl === "baseline") return { rows: 0, checksum: 0 };
  if (impl === "ours") return readOurs(file, Number(arg("push-kib") ?? 64) * 1024);
  if (impl === "ours-1mib-push") return readOurs(file, 1 << 20);
  const mod: { read(file: string): Promise<ReadResult> } =
    impl === "papaparse"
      ? await import("./peers/papaparse-reader.ts")
      : await import("./peers/csv-parse-reader.ts");
  return mod.read(file);
}

function peakRssMB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) / 1024;
  } catch {}
  return process.resourceUsage().maxRSS / 1024;
}

async function child(impl: Impl, file: string): Promise<void> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await readWith(impl, file);
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const out: ChildResult = { impl, ms, cpuMs: (c.user + c.system) / 1000, peakRssMB: peakRssMB(), ...r };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** Writes `rows` rows (plus a header) to `file`, ~100 bytes a row: the `wide-csv` scenario's data. */
function generate(file: string, rows: number): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, "w");
  const enc = new TextEncoder();
  for (const piece of wideCsv(rows, 20240601)) writeSync(fd, enc.encode(piece));
  closeSync(fd);
  renameSync(tmp, file);
}

function childCommand(impl: Impl, file: string): [string, string[]] {
  const self = fileURLToPath(import.meta.url);
  const rest = ["--child", impl, "--file", file, "--push-kib", arg("push-kib") ?? "64"];
  if (runtime === "deno") return [process.execPath, ["run", "-A", self, ...rest]];
  if (runtime === "bun") return [process.execPath, [self, ...rest]];
  const flags = arg("node-flags")?.split(" ").filter(Boolean) ?? [];
  return [process.execPath, [...flags, ...process.execArgv, self, ...rest]];
}

function runChild(impl: Impl, file: string): ChildResult {
  const [cmd, args] = childCommand(impl, file);
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${impl} child failed (${r.status}): ${r.stderr}`);
  const line = r.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as ChildResult;
}

async function main(): Promise<void> {
  const childImpl = arg("child");
  if (childImpl !== undefined) return child(childImpl as Impl, arg("file") as string);

  const rows = Number(arg("rows") ?? 1_000_000);
  const runs = Number(arg("runs") ?? 3);
  const only = (arg("only")?.split(",") ?? IMPLS) as Impl[];
  const dir = fileURLToPath(new URL("./data/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}csv-bench-${rows}.csv`;
  if (!existsSync(file)) generate(file, rows);
  const size = statSync(file).size;
  console.log(
    `${runtime}: ${rows} rows, ${(size / 1e6).toFixed(1)} MB (${(size / rows).toFixed(0)} B/row), best of ${runs} ${arg("node-flags") ?? ""}`,
  );

  const best = new Map<Impl, ChildResult>();
  for (let run = 0; run < runs; run++) {
    for (const impl of only) {
      const r = runChild(impl, file);
      if (r.rows !== rows) throw new Error(`${impl} read ${r.rows} rows, expected ${rows}`);
      const prev = best.get(impl);
      if (prev === undefined) best.set(impl, r);
      else {
        best.set(impl, {
          ...r,
          ms: Math.min(r.ms, prev.ms),
          cpuMs: Math.min(r.cpuMs, prev.cpuMs),
          peakRssMB: Math.max(r.peakRssMB, prev.peakRssMB),
        });
      }
    }
  }
  const checksums = new Set([...best.values()].map((r) => r.checksum));
  if (checksums.size > 1)
    throw new Error(`readers disagree on the values: ${JSON.stringify([...best.values()])}`);

  const ours = best.get("ours");
  const perSec = (ms: number) => rows / (ms / 1000);
  const table = [...best.values()].map((r) => ({
    impl: r.impl,
    "rows/s (wall)": `${(perSec(r.ms) / 1e6).toFixed(2)}M`,
    "rows/s (cpu)": `${(perSec(r.cpuMs) / 1e6).toFixed(2)}M`,
    "MB/s (wall)": (size / 1e6 / (r.ms / 1000)).toFixed(0),
    "peak RSS MB": r.peakRssMB.toFixed(0),
    "ours × (wall)": ours === undefined ? "-" : (r.ms / ours.ms).toFixed(2),
    "ours × (cpu)": ours === undefined ? "-" : (r.cpuMs / ours.cpuMs).toFixed(2),
  }));
  console.table(table);
  const base = runChild("baseline", file);
  console.log(`baseline RSS (runtime and loader, no reading): ${base.peakRssMB.toFixed(0)} MB`);
}

await main();
