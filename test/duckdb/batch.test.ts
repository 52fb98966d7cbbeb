/**
 * Column batches reach DuckDB exactly on node, bun and deno: numbers, NULLs
 * (NaN), strings, and list columns written flat (empty lists, batches over one
 * 2048-row chunk, 64-bit counts), directly and through the metrics store;
 * and `appender` batches converted to every table column type it supports
 * (BIGINT, TIMESTAMP, BOOLEAN, INTEGER, DOUBLE, VARCHAR, JSON, dictionary-
 * coded VARCHAR, VARCHAR with runs of one value, VARCHAR[] and numeric lists), undone by a rollback, refused
 * whole when a list count is no whole number, NULL beyond an integer range.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { available, type RuntimeName, repo, runScript } from "../helpers/runtimes.ts";
import { requireTool } from "../helpers/tools.ts";
import { tempHome } from "../metrics/fixtures.ts";

const home = tempHome("duckdb-batch");
afterAll(() => home.cleanup());
const script = join(repo, "test/duckdb/batch-check.ts");
const outputs = new Map<RuntimeName, unknown>();

describe.each(["node", "bun", "deno"] as const)("batch source on %s", (runtime) => {
  it("round-trips numbers, NULLs, strings and list columns exactly", (ctx) => {
    requireTool(ctx, available(runtime), runtime, "npm install (bun and deno are dev dependencies)");
    const r = runScript(runtime, script, [join(home.dir, runtime)]);
    expect(r.status, r.stderr).toBe(0);
    const out = r.output;
    expect(out.mismatches).toEqual([]);
    // 5000 rows twice: every 7th double and every 5th string is NULL; some lists are empty.
    let empty = 0;
    for (let i = 0; i < 5000; i++) if (i % 11 === 0 || (i * 7) % 23 === 0) empty++;
    expect(out.sums).toEqual({ d: 2 * (5000 - 715), s: 2 * 4000, li: out.sums.li, empty: 2 * empty });
    expect(out.sums.li).toBeGreaterThan(2 * 4000 * 10);
    expect(out.refused).toBe("refused");
    expect(out.after).toEqual({ n: 10_000 });
    expect(out.total.events).toBe(3000);
    expect(out.appended).toEqual({
      rolledBack: 0,
      outOfRange: "refused",
      badSymbol: "refused",
      wrongShape: "x: a batch of 15 columns for 16",
      unsupported: "z.day: columns of type DATE cannot be appended in batches",
      rows: 5000,
      ranges: [
        ["1152921504606846976", 2147483647],
        ["-9223372036854775808", -2147483648],
        [null, null],
        [null, -3],
        [null, null],
        ["9007199254740994", null],
      ],
    });
    expect(out.total.lat_idx).toEqual([...out.total.lat_idx].sort((a: number, b: number) => a - b));
    outputs.set(runtime, out);
    const node = outputs.get("node");
    if (node) expect(out).toEqual(node);
  });
});
