/**
 * The Parquet sink: what it writes is read back by DuckDB and by hyparquet (through the Parquet
 * source) with the same rows and types; row groups follow `rowGroupRows` and checkpoints; values
 * that do not fit their column go to the dead letter; a killed run's part files resume (the
 * kill -9 loop is in test/faults/parquet-kill.test.ts).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, describe, expect, it } from "vitest";
import { pipeline, runCollect, runPipeline } from "../../src/index.ts";
import { parquet } from "../../src/sinks/index.ts";
import { iterable, parquet as readParquet } from "../../src/sources/index.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-parquet-sink-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function duck(sql: string) {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    c.closeSync();
  }
}

const rows = Array.from({ length: 2500 }, (_, i) => ({
  id: i,
  big: BigInt(i) * 1_000_000_000_000n,
  name: i % 9 === 0 ? null : `n${i} ✓`,
  ok: i % 3 === 0,
  at: new Date(Date.UTC(2024, 0, 1) + i * 1000),
  tags: { k: i % 4, list: [i, "x"] },
}));

describe("parquet sink", () => {
  it("writes rows DuckDB and hyparquet read back alike, in row groups of rowGroupRows", async () => {
    const out = join(dir, "a", "out.parquet");
    const s = await runPipeline(
      pipeline("pq-sink", { checkpoint: false })
        .from(iterable(rows))
        .to(parquet(out, { rowGroupRows: 1000 })),
      { home: dir },
    );
    expect(s.status, s.error?.message).toBe("completed");
    expect(readdirSync(join(dir, "a"))).toEqual(["out.parquet"]); // no part or sidecar left
    const got = await duck(`SELECT * FROM read_parquet('${out}')`);
    expect(got.length).toBe(2500);
    expect(got[10]).toEqual({
      id: 10,
      big: 10_000_000_000_000n,
      name: "n10 ✓",
      ok: false,
      at: new Date(Date.UTC(2024, 0, 1) + 10_000),
      tags: JSON.stringify({ k: 2, list: [10, "x"] }),
    });
    expect(got.map((r) => r.name)).toEqual(rows.map((r) => r.name));
    const groups = await duck(
      `SELECT row_group_id, row_group_num_rows AS n FROM parquet_metadata('${out}') GROUP BY ALL ORDER BY 1`,
    );
    expect(groups.map((g) => Number(g.n))).toEqual([1000, 1000, 500]);
    const back = await runCollect(pipeline("pq-back").from(readParquet(out, { int64: "bigint" })), {
      home: dir,
    });
    expect(back).toEqual(rows.map((r) => ({ ...r, id: r.id, tags: r.tags })));
  });

  it("ends a row group at each checkpoint and keeps every row", async () => {
    const out = join(dir, "cp.parquet");
    const s = await runPipeline(
      pipeline("pq-cp", { checkpoint: { rows: 700 } })
        .from(iterable(rows, { chunkSize: 100 }))
        .to(parquet(out, { rowGroupRows: 1000, types: { id: "INT32" } })),
      { home: dir },
    );
    expect(s.status, s.error?.message).toBe("completed");
    const got = await duck(`SELECT id FROM read_parquet('${out}')`);
    expect(got.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    const types = await duck(`SELECT name, type FROM parquet_schema('${out}') WHERE name = 'id'`);
    expect(types[0]?.type).toBe("INT32");
    const groups = await duck(`SELECT DISTINCT row_group_id FROM parquet_metadata('${out}')`);
    expect(groups.length).toBeGreaterThan(3);
  });

  it("dead-letters values that do not fit their column and columns the schema does not have", async () => {
    const out = join(dir, "dl.parquet");
    const input = [
      { a: 1, b: "x" },
      { a: "two", b: "y" },
      { a: 3, b: "z", c: true },
      { a: 4, b: null },
    ];
    const s = await runPipeline(
      pipeline("pq-dl")
        .from(iterable(input))
        .to(parquet(out, { compression: "none", rowGroupRows: 2 })),
      {
        home: dir,
      },
    );
    expect(s.deadLettered).toBe(2);
    expect(await duck(`SELECT * FROM read_parquet('${out}')`)).toEqual([
      { a: 1, b: "x" },
      { a: 4, b: null },
    ]);
    const dl = readFileSync(s.deadLetterFile as string, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(dl[0].reason).toMatch(/column "a": string "two" does not fit a DOUBLE column/);
    expect(dl[1].reason).toMatch(/column "c" is not in the file's schema \(a, b\)/);
  });

  it("writes an empty file with the declared columns when no rows come", async () => {
    const out = join(dir, "empty.parquet");
    const s = await runPipeline(
      pipeline("pq-empty")
        .from(iterable([]))
        .to(parquet(out, { types: { id: "INT64" } })),
      {
        home: dir,
      },
    );
    expect(s.status).toBe("completed");
    expect(existsSync(out)).toBe(true);
    expect(await duck(`SELECT count(*)::INT AS n FROM read_parquet('${out}')`)).toEqual([{ n: 0 }]);
  });

  it("rejects unknown options", () => {
    expect(() => parquet(join(dir, "x.parquet"), { rowGroupSize: 5 } as never)).toThrow(
      /unknown option "rowGroupSize"/,
    );
  });
});
