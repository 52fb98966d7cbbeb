/** Scenario data generators are deterministic: the same seed gives the same bytes, another seed other bytes. */
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { builtinScenario } from "../../src/bench/load.ts";
import { generate } from "../../src/bench/runner.ts";
import { cpuRecords } from "../../src/bench/scenarios/cpu-data.ts";
import { builtinScenarios } from "../../src/bench/scenarios/index.ts";

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

/** Generates into a fresh home and returns the data plus a hash of every file written. */
async function fingerprint(
  name: string,
  rows: number,
  seed: number,
): Promise<{ data: unknown; hash: string }> {
  const home = mkdtempSync(join(tmpdir(), "sluice-bench-gen-"));
  homes.push(home);
  const data = await generate(builtinScenario(name)!, rows, seed, { home });
  const h = createHash("sha256");
  const dataDir = join(home, "bench", "data");
  for (const dir of readdirSync(dataDir).sort()) {
    for (const f of readdirSync(join(dataDir, dir)).sort()) {
      h.update(f);
      h.update(readFileSync(join(dataDir, dir, f)));
    }
  }
  // Records generated in memory (cpu-parallel) count as bytes too.
  if (name === "cpu-parallel") h.update(JSON.stringify(cpuRecords(data as Parameters<typeof cpuRecords>[0])));
  if (name === "engine-overhead") h.update(JSON.stringify(data));
  return { data, hash: h.digest("hex") };
}

describe("scenario data generators", () => {
  for (const s of builtinScenarios) {
    it(`${s.name}: same seed, same bytes; another seed, other bytes`, async () => {
      const rows = Math.min(s.sizes.tiny, 3000);
      const a = await fingerprint(s.name, rows, 7);
      const b = await fingerprint(s.name, rows, 7);
      const c = await fingerprint(s.name, rows, 8);
      expect(b.hash).toBe(a.hash);
      // engine-overhead's input is the numbers 0..rows-1: there is nothing for a seed to change.
      if (s.name !== "engine-overhead") expect(c.hash).not.toBe(a.hash);
      // The data description is JSON (it is handed to measuring processes) apart from its paths.
      const strip = (d: unknown) =>
        JSON.parse(JSON.stringify(d).replace(/"[^"]*sluice-bench-gen-[^"]*"/g, '"<path>"'));
      expect(strip(b.data)).toEqual(strip(a.data));
    });
  }
});
