/**
 * The runtime conformance suite: the same pipelines run through the CLI on
 * node, bun and deno must produce byte-identical outputs and the same counts.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { available, type RuntimeName, repo, runCli } from "../helpers/runtimes.ts";

const runtimes: RuntimeName[] = ["node", "bun", "deno"];
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const cases = [
  { file: "orders.ts", outputs: ["out/orders.ndjson"] },
  { file: "csv-roundtrip.ts", outputs: ["out/tricky.csv"] },
  { file: "events.ts", outputs: ["out/events.csv"] },
  { file: "parallel.ts", outputs: ["out/scores.ndjson"] },
  { file: "observable.ts", outputs: ["out/observable.ndjson"] },
];

describe("runtime conformance", () => {
  for (const rt of runtimes) {
    it(`${rt} is installed (npm install brings all three runtimes)`, () => {
      expect(available(rt), `${rt} binary missing under node_modules/.bin — run npm install`).toBe(true);
    });
  }

  for (const c of cases) {
    it(`${c.file}: identical output on node, bun and deno`, () => {
      const results: Record<string, { hashes: string[]; summary: string }> = {};
      for (const rt of runtimes) {
        const cwd = mkdtempSync(join(tmpdir(), `sluice-conf-${rt}-`));
        dirs.push(cwd);
        const r = runCli(
          rt,
          ["run", join(repo, "test/conformance/pipelines", c.file), "--home", join(cwd, ".sluice")],
          { cwd },
        );
        expect(r.code, `${rt} failed:\n${r.stderr}\n${r.stdout}`).toBe(0);
        const hashes = c.outputs.map((o) =>
          createHash("sha256")
            .update(readFileSync(join(cwd, o)))
            .digest("hex"),
        );
        const summary = r.stdout.split("\n").find((l) => l.includes("rows in")) ?? "";
        results[rt] = { hashes, summary };
      }
      expect(results.bun).toEqual(results.node);
      expect(results.deno).toEqual(results.node);
      expect(results.node.summary).toMatch(/rows in [\d,]+ · out [\d,]+/);
    });
  }
});
