/**
 * Shared machinery of the dead-letter tests: the fixture's input, running the
 * CLI in a working directory, and the end state compared across runs — the
 * sink's content (sorted: a redrive appends) and the letters still dead.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { repo } from "../helpers/runtimes.ts";

export const fixture = join(repo, "test/fixtures/pipelines/dlq.ts");
export const ROWS = 2000;

/** The fixture's input: ragged rows every 401, "n/a" amounts every 97, users in turn (one is "test"). */
export function writeInput(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const users = ["ann", "bob", "test", "ken", "eve"];
  const lines = ["id,user,amount"];
  for (let i = 1; i <= ROWS; i++) {
    const u = users[i % 5];
    if (i % 401 === 0) lines.push(`${i},${u}`);
    else if (i % 97 === 0) lines.push(`${i},${u},n/a`);
    else lines.push(`${i},${u},${((i * 7) % 1000) / 10}`);
  }
  writeFileSync(join(dir, "dlq.csv"), `${lines.join("\n")}\n`);
}

/** A working directory under `root` whose data/ is `data`. */
export function workdir(root: string, name: string, data: string): string {
  const cwd = mkdtempSync(join(root, `${name}-`));
  symlinkSync(data, join(cwd, "data"));
  return cwd;
}

/** The NDJSON sink's lines, sorted. */
export function sortedLines(cwd: string): string[] {
  const f = join(cwd, "out/orders.ndjson");
  if (!existsSync(f)) return [];
  return readFileSync(f, "utf8").split("\n").filter(Boolean).sort();
}

/** The DuckDB sink's rows without the sink's own columns, sorted. */
export async function sortedRows(cwd: string): Promise<string[]> {
  const db = await DuckDBInstance.create(join(cwd, "out/orders.duckdb"), { access_mode: "READ_ONLY" });
  const conn = await db.connect();
  try {
    const r = await conn.runAndReadAll("SELECT * EXCLUDE (_sluice_run, _sluice_row) FROM orders");
    return r
      .getRowsJson()
      .map((row) => JSON.stringify(row))
      .sort();
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

interface LetterJson {
  stage: string;
  reason: string;
  attempts: number;
  position: { line?: number };
  record?: { id?: number | string };
}

/** A letter's identity: its stage and its input line, or the id of its record. */
export function letterKey(l: LetterJson): string {
  return `${l.stage}|${l.position.line !== undefined ? `line ${l.position.line}` : `id ${l.record?.id}`}`;
}

/** Keys of the dead letters in a run's dead-letter file (a clean run's). */
export function fileLetterKeys(runDir: string): string[] {
  const f = join(runDir, "dead-letter.ndjson");
  if (!existsSync(f)) return [];
  return readFileSync(f, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => letterKey(JSON.parse(l) as LetterJson))
    .sort();
}

/** Letters printed by `sluice dlq show --json`, one per line. */
export function shownLetters(
  stdout: string,
): Array<LetterJson & { index: number; status: string; redrives: number }> {
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Total bytes of the journal segments of the run in `runDir` (grows at each durable checkpoint). */
export function journalBytes(runDir: string): number {
  const j = join(runDir, "journal");
  if (!existsSync(j)) return 0;
  let n = 0;
  for (const f of readdirSync(j)) if (f.endsWith(".seg")) n += Math.max(0, statSync(join(j, f)).size - 24);
  return n;
}

/** The run directory of the redrive under `home` (the run with a redrive.json), if one was started. */
export function redriveDir(home: string): string | undefined {
  const dir = join(home, "dlq");
  if (!existsSync(dir)) return undefined;
  for (const run of readdirSync(dir)) if (existsSync(join(dir, run, "redrive.json"))) return join(dir, run);
  return undefined;
}
