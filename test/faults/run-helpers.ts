/**
 * Shared machinery of the crash tests: start the CLI on a runtime without
 * waiting for it, watch a run's journal grow, read its last checkpoint, and
 * hash outputs (the NDJSON file; the DuckDB table's rows in `_sluice_row`
 * order, checked to be exactly 0..n-1 — nothing lost, nothing doubled).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { listRuns, type RunInfo, readRunEvents } from "../../src/journal/runs.ts";
import { openCaughtUp } from "../../src/metrics/catch-up.ts";
import { cli, command, type RuntimeName, repo } from "../helpers/runtimes.ts";

export const fixture = join(repo, "test/fixtures/pipelines/journaled.ts");
export const PIPELINE = "faults";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Started {
  readonly proc: ChildProcess;
  readonly exited: Promise<Exit>;
  readonly done: () => boolean;
}

/** Starts `sluice ARGS` on `runtime` in `cwd` and returns at once. */
export function start(
  runtime: RuntimeName,
  args: string[],
  opts: { cwd: string; env?: Record<string, string> },
): Started {
  const [bin, ...pre] = command(runtime);
  const proc = spawn(bin, [...pre, cli, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let finished = false;
  proc.stdout?.on("data", (d) => {
    stdout += d;
  });
  proc.stderr?.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<Exit>((resolve) => {
    proc.on("close", (code, signal) => {
      finished = true;
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { proc, exited, done: () => finished };
}

/** Runs to the end. */
export async function run(
  runtime: RuntimeName,
  args: string[],
  opts: { cwd: string; env?: Record<string, string> },
): Promise<Exit> {
  return start(runtime, args, opts).exited;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `pred` every `every` ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitUntil(pred: () => boolean, timeoutMs: number, every = 15): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (pred()) return true;
    await sleep(every);
  }
  return pred();
}

/** Record bytes in all journal segments of every run of the pipeline (grows at each durable checkpoint). */
export function journalBytes(home: string, pipeline = PIPELINE): number {
  const dir = join(home, pipeline);
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const run of readdirSync(dir)) {
    const j = join(dir, run, "journal");
    if (!existsSync(j)) continue;
    // Segment headers (24 bytes) are written at open, before anything happened.
    for (const f of readdirSync(j)) if (f.endsWith(".seg")) n += Math.max(0, statSync(join(j, f)).size - 24);
  }
  return n;
}

/** The latest run of the fault pipeline, read from its journal. */
export async function latestRun(home: string): Promise<RunInfo | undefined> {
  return (await listRuns(home, PIPELINE)).at(-1);
}

/** A working directory whose `data/` is shared (the generated CSV is made once). */
export function workdir(root: string, name: string, data: string): string {
  const cwd = mkdtempSync(join(root, `${name}-`));
  mkdirSync(data, { recursive: true });
  symlinkSync(data, join(cwd, "data"));
  return cwd;
}

export function tempRoot(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function sha(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/**
 * SHA-256 of the table's rows (all columns but `_sluice_run`) in `_sluice_row`
 * order, after checking that `_sluice_row` is exactly 0..n-1 for one run.
 */
export async function tableHash(dbPath: string, table = "orders"): Promise<{ hash: string; rows: number }> {
  const db = await DuckDBInstance.create(dbPath, { access_mode: "READ_ONLY" });
  const conn = await db.connect();
  try {
    const check = await conn.runAndReadAll(
      `SELECT count(*) AS n, count(DISTINCT _sluice_row) AS d, min(_sluice_row) AS lo, max(_sluice_row) AS hi, count(DISTINCT _sluice_run) AS runs FROM ${table}`,
    );
    const [c] = check.getRowObjectsJson() as Array<Record<string, string | number>>;
    const n = Number(c.n);
    if (
      n > 0 &&
      (Number(c.d) !== n || Number(c.lo) !== 0 || Number(c.hi) !== n - 1 || Number(c.runs) !== 1)
    ) {
      throw new Error(`table ${table} rows are not exactly 0..n-1 of one run: ${JSON.stringify(c)}`);
    }
    const reader = await conn.runAndReadAll(
      `SELECT * EXCLUDE (_sluice_run) FROM ${table} ORDER BY _sluice_row`,
    );
    const hash = createHash("sha256");
    for (const row of reader.getRowsJson()) hash.update(`${JSON.stringify(row)}\n`);
    return { hash: hash.digest("hex"), rows: n };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** The output hash for the sink the environment selects. */
export async function outputHash(cwd: string, sink: "ndjson" | "duckdb"): Promise<string> {
  return sink === "duckdb"
    ? (await tableHash(join(cwd, "out/orders.duckdb"))).hash
    : sha(join(cwd, "out/orders.ndjson"));
}

/**
 * What the metrics store holds for a run, once a reader caught it up, against what its journal holds:
 * per-run sequence numbers exactly 1..n (nothing doubled), and the same
 * number of events of each kind as the journal (nothing lost), after kills
 * and resumes.
 */
export async function metricsVsJournal(
  home: string,
  runId: string,
  pipeline = PIPELINE,
): Promise<{
  store: Record<string, number>;
  journal: Record<string, number>;
  seqs: string;
  /** The first sequence number whose kind differs between store and journal ("none": same order). */
  firstDifference: string;
}> {
  const run = (await listRuns(home, pipeline)).find((r) => r.runId === runId);
  if (!run) throw new Error(`no run ${runId} under ${home}`);
  const journal: Record<string, number> = {};
  const journalOrder: string[] = [];
  for await (const { event } of readRunEvents(run.runDir)) {
    if (event.kind === "run.progress") continue;
    journal[event.kind] = (journal[event.kind] ?? 0) + 1;
    journalOrder.push(event.kind);
  }
  // Runs write no store: a reader catches it up from the journals first, as `sluice sql` does.
  const reader = await openCaughtUp(home);
  await reader.store.close();
  const db = await DuckDBInstance.create(join(home, "metrics.duckdb"), { access_mode: "READ_ONLY" });
  const conn = await db.connect();
  try {
    const seq = await conn.runAndReadAll(
      "SELECT count(*) AS n, count(DISTINCT seq) AS d, min(seq) AS lo, max(seq) AS hi FROM events WHERE run_id = $run",
      { run: runId },
    );
    const [c] = seq.getRowObjectsJson() as Array<Record<string, string | number>>;
    const kinds = await conn.runAndReadAll(
      "SELECT kind, count(*) AS n FROM events WHERE run_id = $run GROUP BY kind",
      { run: runId },
    );
    const store: Record<string, number> = {};
    for (const r of kinds.getRowObjectsJson() as Array<{ kind: string; n: string | number }>)
      store[r.kind] = Number(r.n);
    const ordered = await conn.runAndReadAll(
      "SELECT seq, kind FROM events WHERE run_id = $run ORDER BY seq",
      {
        run: runId,
      },
    );
    const storeOrder = (ordered.getRowObjectsJson() as Array<{ kind: string }>).map((r) => r.kind);
    const k = journalOrder.findIndex((kind, i) => storeOrder[i] !== kind);
    const firstDifference =
      k === -1 && storeOrder.length === journalOrder.length
        ? "none"
        : `seq ${k === -1 ? journalOrder.length + 1 : k + 1}: store ${storeOrder[k] ?? "-"}, journal ${journalOrder[k] ?? "-"}`;
    return { store, journal, seqs: `n=${c.n} distinct=${c.d} min=${c.lo} max=${c.hi}`, firstDifference };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
