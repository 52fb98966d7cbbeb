/**
 * Issue 20 on node, bun and deno, through the CLI: a run of the dead-letter
 * fixture leaves letters of five kinds (ragged row, schema failure, two user
 * function throws, a worker that crashes on poison records); `sluice dlq`
 * groups them by normalised reason; the pipeline is fixed and `sluice
 * redrive` re-runs them; then the sink holds exactly the rows a clean run of
 * the fixed pipeline holds (by content), the queue holds exactly the letters
 * that clean run dead-letters, and the counts reconcile.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RuntimeName, runCli } from "../helpers/runtimes.ts";
import {
  fileLetterKeys,
  fixture,
  letterKey,
  shownLetters,
  sortedLines,
  sortedRows,
  workdir,
  writeInput,
} from "./helpers.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-dlq-"));
const data = join(root, "data");
afterAll(() => rmSync(root, { recursive: true, force: true }));
const FIXED = { SLUICE_DLQ_FIXED: "1" };

const clean: { lines: string[]; rows: string[]; dead: string[] } = { lines: [], rows: [], dead: [] };

beforeAll(async () => {
  writeInput(data);
  for (const sink of ["ndjson", "duckdb"]) {
    const cwd = workdir(root, `clean-${sink}`, data);
    const home = join(cwd, ".s");
    const r = runCli("node", ["run", fixture, "--quiet", "--home", home], {
      cwd,
      env: { ...FIXED, SLUICE_DLQ_SINK: sink },
    });
    expect(r.code, r.stderr).toBe(0);
    if (sink === "ndjson") {
      clean.lines = sortedLines(cwd);
      const [runId] = readdirSync(join(home, "dlq"));
      clean.dead = fileLetterKeys(join(home, "dlq", runId));
    } else clean.rows = await sortedRows(cwd);
  }
  expect(clean.lines.length).toBeGreaterThan(1000);
  // The fixed pipeline still fails the ragged rows (4) and the blocked order (1).
  expect(clean.dead).toHaveLength(5);
}, 120_000);

function scenario(rt: RuntimeName, sink: "ndjson" | "duckdb") {
  return async () => {
    const cwd = workdir(root, `${rt}-${sink}`, data);
    const home = join(cwd, ".s");
    const env = { SLUICE_DLQ_SINK: sink };
    const first = runCli(rt, ["run", fixture, "--quiet", "--home", home], { cwd, env });
    expect(first.code, first.stderr).toBe(0);

    const before = runCli(rt, ["dlq", "dlq", "--json", "--home", home], { cwd });
    expect(before.code, before.stderr).toBe(0);
    const q = JSON.parse(before.stdout);
    expect(q.counts).toEqual({ total: 40, redriven: 0, dead: 40 });
    const groups = Object.fromEntries(
      q.groups.map((g: { stage: string; reason: string; count: number }) => [
        `${g.stage} ${g.reason}`,
        g.count,
      ]),
    );
    expect(groups).toEqual({
      "source schema: amount: Invalid input: expected number, received NaN": 20,
      "2:map 2:map threw: no price for order <n>": 9,
      "3:parallelMap 3:parallelMap failed after <n> attempt(s): WorkerExitError: worker <n> exited with code <n> while running this record": 6,
      'source expected <n> fields (one per column) but found <n>; quote fields that contain "…" or fix the row': 4,
      "2:map 2:map threw: order <n> is blocked": 1,
    });
    const ragged = q.groups.find((g: { count: number }) => g.count === 4);
    expect(ragged).toMatchObject({ first: { line: 402 }, last: { line: 1605 }, sample: "401,bob" });

    // --raw gives the original input of the source-stage letters, one per line.
    const raw = runCli(rt, ["dlq", "show", "dlq", "--reason", "fields", "--raw", "--home", home], { cwd });
    expect(raw.stdout).toBe("401,bob\n802,test\n1203,ken\n1604,eve\n");

    const redrive = runCli(
      rt,
      ["redrive", "dlq", "--pipeline", fixture, "--json", "--quiet", "--home", home],
      { cwd, env: { ...env, ...FIXED } },
    );
    expect(redrive.code, redrive.stderr).toBe(0);
    const r = JSON.parse(redrive.stdout);
    expect(r).toMatchObject({ status: "completed", taken: 40, settled: { redriven: 35, dead: 5 } });
    expect(r.counts).toEqual({ total: 40, redriven: 35, dead: 5 });

    if (sink === "ndjson") expect(sortedLines(cwd)).toEqual(clean.lines);
    else expect(await sortedRows(cwd)).toEqual(clean.rows);

    const still = runCli(rt, ["dlq", "show", "dlq", "--json", "--home", home], { cwd });
    const letters = shownLetters(still.stdout);
    expect(letters.map(letterKey).sort()).toEqual(clean.dead);
    for (const l of letters) {
      expect(l.status).toBe("dead");
      expect(l.redrives).toBe(1);
      expect(l.attempts).toBe(2); // once in the first run, once in the redrive
    }
    // Nothing left to redrive a second time changes the sink.
    const again = runCli(rt, ["redrive", "dlq", "--pipeline", fixture, "--json", "--quiet", "--home", home], {
      cwd,
      env: { ...env, ...FIXED },
    });
    expect(JSON.parse(again.stdout)).toMatchObject({ taken: 5, settled: { redriven: 0, dead: 5 } });
    if (sink === "ndjson") expect(sortedLines(cwd)).toEqual(clean.lines);
    else expect(await sortedRows(cwd)).toEqual(clean.rows);
    const after = JSON.parse(runCli(rt, ["dlq", "dlq", "--json", "--home", home], { cwd }).stdout);
    expect(after.counts).toEqual({ total: 40, redriven: 35, dead: 5 });
    if (rt === "node" && sink === "ndjson") {
      // The metrics store groups the first run's letters the same way (view dead_letter_groups).
      const sql = runCli(
        rt,
        [
          "sql",
          `SELECT stage, reason, count FROM dead_letter_groups WHERE run_id = '${q.run}' ORDER BY count DESC, reason`,
          "--json",
          "--home",
          home,
        ],
        { cwd },
      );
      expect(sql.code, sql.stderr).toBe(0);
      const rows = JSON.parse(sql.stdout) as Array<{ stage: string; reason: string; count: number }>;
      expect(Object.fromEntries(rows.map((g) => [`${g.stage} ${g.reason}`, g.count]))).toEqual(groups);
    }
  };
}

describe("dead letters: inspect, fix, redrive", () => {
  it(
    "node, ndjson: the sink equals a clean run of the fixed pipeline; the queue holds what still fails",
    scenario("node", "ndjson"),
    240_000,
  );
  it("bun, ndjson: the same", scenario("bun", "ndjson"), 240_000);
  it("deno, ndjson: the same", scenario("deno", "ndjson"), 240_000);
  it(
    "node, duckdb: the redrive adds its rows to the replace-mode table, each once",
    scenario("node", "duckdb"),
    240_000,
  );
});
