/**
 * The Parquet source against an independent reader: DuckDB's `read_parquet` of the same files
 * (written by DuckDB, several types and nulls, several row groups), for all columns, projection,
 * `where` (row-group pushdown counted in the summary), globs, INT64 as number or bigint, and bad
 * input (not Parquet, truncated) that is dead-lettered while the run goes on.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { pipeline, runCollect, runPipeline } from "../../src/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { parquet } from "../../src/sources/index.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-parquet-"));
const file = join(dir, "t.parquet");
let duck: Awaited<ReturnType<DuckDBInstance["connect"]>>;
afterAll(() => {
  duck?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

const SELECT = `SELECT i AS id, (i % 7)::INTEGER AS small, i * 1.5 AS dbl, 'cat' || (i % 5) AS cat, i % 2 = 0 AS flag,
  TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND AS ts, DATE '2024-01-01' + (i % 30)::INTEGER AS d,
  (i / 100)::DECIMAL(10,2) AS dec, CASE WHEN i % 11 = 0 THEN NULL ELSE i END AS maybe,
  CASE WHEN i % 13 = 0 THEN NULL ELSE 'zoë ' || i END AS s FROM range(ROWS) t(i)`;

beforeAll(async () => {
  const db = await DuckDBInstance.create(":memory:");
  duck = await db.connect();
  await duck.run("SET threads = 1"); // rows in id order, row groups of 2048
  const copy = (rows: number, to: string, groups = 2048) =>
    duck.run(
      `COPY (${SELECT.replace("ROWS", String(rows))}) TO '${to}' (FORMAT parquet, ROW_GROUP_SIZE ${groups})`,
    );
  await copy(10_240, file); // 5 row groups (DuckDB rounds ROW_GROUP_SIZE to 2048-row vectors)
  mkdirSync(join(dir, "glob/sub"), { recursive: true });
  await copy(1200, join(dir, "glob/a.parquet"), 500);
  await copy(700, join(dir, "glob/b.parquet"), 500);
  await copy(300, join(dir, "glob/sub/c.parquet"), 500);
  writeFileSync(join(dir, "glob/notes.txt"), "not matched");
});

/** DuckDB's rows as the source gives them: INT64 as number (or bigint), the rest as DuckDB's JS values. */
async function duckRows(sql: string, int64: "number" | "bigint" = "number") {
  const rows = (await duck.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  return rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" && int64 === "number" ? Number(v) : v]),
    ),
  );
}

describe("parquet source", () => {
  it("reads every column like DuckDB: numbers, INT64, strings, booleans, timestamps, dates, decimals, nulls", async () => {
    const got = await runCollect(pipeline("pq-all").from(parquet(file)), { home: dir });
    expect(got).toEqual(await duckRows(`SELECT * FROM read_parquet('${file}')`));
    expect(got[1]).toMatchObject({ id: 1, ts: new Date("2024-01-01T00:00:01Z"), dec: 0.01, maybe: 1 });
    expect(got[0]).toMatchObject({ maybe: null, s: null });
  });

  it('reads INT64 as bigint with int64: "bigint"', async () => {
    const got = await runCollect(
      pipeline("pq-big").from(parquet(file, { columns: ["id", "maybe"], int64: "bigint" })),
      {
        home: dir,
      },
    );
    expect(got).toEqual(await duckRows(`SELECT id, maybe FROM read_parquet('${file}')`, "bigint"));
    expect(typeof (got[3] as { id: unknown }).id).toBe("bigint");
  });

  it("projects columns in the order asked and filters with where, skipping row groups by statistics", async () => {
    const cases: Array<[object, string]> = [
      [{ id: { $gte: 4100 }, cat: { $in: ["cat1", "cat2"] } }, "id >= 4100 AND cat IN ('cat1','cat2')"],
      [{ id: { $gt: 1500, $lt: 2100 }, flag: true }, "id > 1500 AND id < 2100 AND flag"],
      [{ maybe: null }, "maybe IS NULL"],
      [{ s: { $ne: "zoë 7" }, id: { $lte: 20 } }, "(s IS NULL OR s <> 'zoë 7') AND id <= 20"],
      [
        { ts: { $gte: new Date("2024-01-01T01:00:00Z") }, dec: { $eq: 40 } },
        "ts >= TIMESTAMP '2024-01-01 01:00:00' AND dec = 40",
      ],
      [{ id: { $in: [3, 4000n, 99999] } }, "id IN (3, 4000, 99999)"],
      [{ id: { $gt: 10_000 } }, "id > 10000"],
    ];
    for (const [where, sql] of cases) {
      const out = collect<Record<string, unknown>>();
      const s = await runPipeline(
        pipeline("pq-where")
          .from(parquet(file, { columns: ["s", "id", "ts"], where: where as never }))
          .to(out),
        { home: dir },
      );
      expect(out.records, sql).toEqual(
        await duckRows(`SELECT s, id, ts FROM read_parquet('${file}') WHERE ${sql}`),
      );
      expect(s.rowsIn).toBe(out.records.length);
      expect(s.sourceNotes?.[0]).toMatch(
        /^parquet: 1 file, \d+ of 5 row groups read \(\d+ skipped by statistics\)/,
      );
    }
    const s = await runPipeline(
      pipeline("pq-skip")
        .from(parquet(file, { columns: ["id"], where: { id: { $gte: 4100 } } }))
        .to(collect()),
      { home: dir },
    );
    expect(s.sourceNotes).toEqual([
      "parquet: 1 file, 3 of 5 row groups read (2 skipped by statistics); 6,140 of 6,144 rows scanned matched where",
    ]);
    expect(s.rowsOut).toBe(6140);
  });

  it("reads a glob of files in sorted order, like DuckDB", async () => {
    const got = await runCollect(
      pipeline("pq-glob").from(
        parquet(join(dir, "glob/**/*.parquet"), { columns: ["id", "cat"], where: { id: { $lt: 600 } } }),
      ),
      { home: dir },
    );
    const want = await duckRows(
      `SELECT id, cat FROM read_parquet('${dir}/glob/**/*.parquet', filename = true) WHERE id < 600 ORDER BY filename, file_row_number`,
    );
    expect(got).toEqual(want.map(({ id, cat }) => ({ id, cat })));
    expect(got.length).toBe(600 + 600 + 300);
  });

  it("validates records with a zod schema, dead-lettering failures with file, row group and row", async () => {
    const schema = z.object({ id: z.number(), maybe: z.number() });
    const out = collect();
    const s = await runPipeline(
      pipeline("pq-schema")
        .from(parquet(file, { columns: ["id", "maybe"], where: { id: { $lt: 30 } }, schema }))
        .to(out),
      { home: dir },
    );
    expect(out.records.length).toBe(27);
    expect(s.deadLettered).toBe(3);
    const dl = readFileSync(s.deadLetterFile as string, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(dl.map((d) => d.position)).toEqual([0, 11, 22].map((row) => ({ file, rowGroup: 0, row })));
    expect(dl[0].reason).toMatch(/^schema: maybe:/);
  });

  it("dead-letters INT64 values beyond 2^53 in number mode, naming the column and the way out", async () => {
    const big = join(dir, "big.parquet");
    await duck.run(
      `COPY (SELECT * FROM (VALUES (1::BIGINT), (9007199254740993::BIGINT), (3::BIGINT)) t(v)) TO '${big}' (FORMAT parquet)`,
    );
    const out = collect();
    const s = await runPipeline(pipeline("pq-unsafe").from(parquet(big)).to(out), { home: dir });
    expect(out.records).toEqual([{ v: 1 }, { v: 3 }]);
    expect(s.deadLettered).toBe(1);
    const dl = JSON.parse(readFileSync(s.deadLetterFile as string, "utf8").trim());
    expect(dl.reason).toMatch(/int64 value 9007199254740993 in column "v" .*int64: "bigint"/);
    expect(dl.position).toEqual({ file: big, rowGroup: 0, row: 1 });
  });

  it("dead-letters a file that is not Parquet and a truncated one, and reads the others", async () => {
    const bad = join(dir, "bad");
    mkdirSync(bad);
    writeFileSync(join(bad, "1-text.parquet"), "id,name\n1,a\n");
    const whole = readFileSync(join(dir, "glob/b.parquet"));
    writeFileSync(join(bad, "2-cut.parquet"), whole.subarray(0, whole.length - 100));
    writeFileSync(join(bad, "3-good.parquet"), whole);
    const out = collect();
    const s = await runPipeline(
      pipeline("pq-bad")
        .from(parquet(join(bad, "*.parquet"), { columns: ["id"] }))
        .to(out),
      {
        home: dir,
      },
    );
    expect(s.status).toBe("completed");
    expect(out.records.length).toBe(700);
    expect(s.deadLettered).toBe(2);
    expect(s.rowsIn).toBe(s.rowsOut + s.filtered + s.deadLettered);
    const dl = readFileSync(s.deadLetterFile as string, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(dl[0].reason).toMatch(
      /^not a readable Parquet file \(.*\): .*1-text\.parquet \(12 bytes\); the file is skipped$/,
    );
    expect(dl[1].reason).toMatch(/^not a readable Parquet file \(.*\): .*2-cut\.parquet/);
    expect(s.sourceNotes?.[0]).toMatch(/^parquet: 3 files \(2 unreadable\), 1 of 1 row groups read/);
  });

  it("names the file and its columns when a column is missing, and the path when nothing matches", async () => {
    const s = await runPipeline(
      pipeline("pq-miss")
        .from(parquet(file, { columns: ["id", "nope"] }))
        .to(collect()),
      {
        home: dir,
      },
    );
    expect(s.status).toBe("failed");
    expect(s.error?.message).toMatch(/t\.parquet has no column "nope"/);
    expect(s.error?.hint).toMatch(/Its columns are: id, small, dbl/);
    const n = await runPipeline(
      pipeline("pq-none")
        .from(parquet(join(dir, "none/*.parquet")))
        .to(collect()),
      {
        home: dir,
      },
    );
    expect(n.error?.message).toMatch(/no file matches .*none\/\*\.parquet/);
  });

  it("rejects unknown options and bad where operators", () => {
    expect(() => parquet(file, { colums: ["id"] } as never)).toThrow(/unknown option "colums"/);
    expect(() => parquet(file, { where: { id: { $regex: "x" } } } as never)).toThrow(
      /where.id: unknown operator \$regex: use \$eq/,
    );
  });
});
