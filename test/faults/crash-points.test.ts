/**
 * Crashes at the exact moments that matter (SLUICE_FAULT makes the process
 * SIGKILL itself there), each followed by a plain `sluice run` that must
 * resume and finish with the output of an uninterrupted run:
 *
 * - after-sink-commit: the sink committed checkpoint 3 (file fsynced, DuckDB
 *   transaction committed) but the checkpoint never reached the journal —
 *   resume goes back to checkpoint 2 and the sink drops what 3 added;
 * - after-checkpoint: checkpoint 3 is durable, rows after it are written but
 *   not committed;
 * - before-sink-close: the final checkpoint is durable, the file is not
 *   renamed (with aggregate, whose end() output must not be emitted twice);
 * - before-run-ended: the file is renamed but the run is not marked ended;
 * - segment-rotation: a new journal segment was created, its header never
 *   written (small segments so rotations happen).
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureOrdersCsv } from "../../src/testing/generate.ts";
import { fixture, latestRun, outputHash, run, tempRoot, workdir } from "./run-helpers.ts";

const root = tempRoot("sluice-crash-");
const data = join(root, "data");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const base = {
  SLUICE_TEST_ROWS: "20000",
  SLUICE_TEST_CP: "20",
  SLUICE_TEST_DELAY: "15",
  SLUICE_TEST_SEGMENT: "16KiB",
};
type Sink = "ndjson" | "duckdb";
type Op = "dedupe" | "aggregate";
const reference = new Map<string, string>();

const cases: Array<{ fault: string; op: Op }> = [
  { fault: "after-sink-commit@3", op: "dedupe" },
  { fault: "after-checkpoint@3", op: "dedupe" },
  { fault: "before-sink-close", op: "aggregate" },
  { fault: "before-run-ended", op: "dedupe" },
  { fault: "segment-rotation@2", op: "dedupe" },
];

beforeAll(async () => {
  await ensureOrdersCsv(join(data, "orders-20000.csv"), { rows: 20_000, seed: 11, badEvery: 997 });
  await Promise.all(
    (["ndjson", "duckdb"] as Sink[]).flatMap((sink) =>
      (["dedupe", "aggregate"] as Op[]).map(async (op) => {
        const cwd = workdir(root, `ref-${sink}-${op}`, data);
        const r = await run("node", ["run", fixture, "--quiet", "--home", join(cwd, ".s")], {
          cwd,
          env: { ...base, SLUICE_TEST_SINK: sink, SLUICE_TEST_OP: op, SLUICE_TEST_DELAY: "0" },
        });
        expect(r.code, r.stderr).toBe(0);
        reference.set(`${sink}/${op}`, await outputHash(cwd, sink));
      }),
    ),
  );
}, 120_000);

describe.concurrent("crash points", () => {
  for (const { fault, op } of cases) {
    for (const sink of ["ndjson", "duckdb"] as Sink[]) {
      it(`${sink}, ${op}: crash at ${fault}, then resume → identical output`, async () => {
        const cwd = workdir(root, `${sink}-${fault.replace(/@/, "-")}`, data);
        const home = join(cwd, ".s");
        const env = { ...base, SLUICE_TEST_SINK: sink, SLUICE_TEST_OP: op };
        const crashed = await run("node", ["run", fixture, "--quiet", "--home", home], {
          cwd,
          env: { ...env, SLUICE_FAULT: fault },
        });
        expect(crashed.signal, `did not crash at ${fault}: ${crashed.stderr}`).toBe("SIGKILL");
        const before = await latestRun(home);
        expect(before?.status).toBe("crashed");
        if (fault === "after-sink-commit@3") expect(before?.checkpoint?.id).toBe(2);
        if (fault === "after-checkpoint@3") expect(before?.checkpoint?.id).toBe(3);
        if (fault === "before-sink-close" && sink === "ndjson") {
          expect(existsSync(join(cwd, "out/orders.ndjson"))).toBe(false);
        }
        if (fault === "before-run-ended" && sink === "ndjson") {
          expect(existsSync(join(cwd, "out/orders.ndjson"))).toBe(true);
        }

        const resumed = await run("node", ["run", fixture, "--home", home], { cwd, env });
        expect(resumed.code, resumed.stderr).toBe(0);
        expect(resumed.stderr).toContain(`resuming run ${before?.runId}`);
        expect(await outputHash(cwd, sink)).toBe(reference.get(`${sink}/${op}`));
        const after = await latestRun(home);
        expect(after?.status).toBe("completed");
        expect(after?.runId).toBe(before?.runId);
      }, 120_000);
    }
  }
});
