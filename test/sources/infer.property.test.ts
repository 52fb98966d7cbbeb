/**
 * Schema inference, property-style: generated columns of each kind (integer, number, boolean,
 * date, string) with nulls, written as CSV and as NDJSON, read back through the sources' own
 * sampling. Each column gets its kind and nullability; every generated record passes the inferred
 * schema with the value typed; the TypeScript `sluice schema` prints, compiled and imported,
 * behaves as the schema the sources validate with; and `csv(path, { infer: true })` dead-letters
 * a value that breaks its column.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { EventBus, type EventOf, pipeline, runPipeline } from "../../src/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { csv } from "../../src/sources/index.ts";
import { type FieldKind, inferSchema, toTypeScript, toZod } from "../../src/sources/internal/infer.ts";
import { sampleFile } from "../../src/sources/internal/sample.ts";
import { repo } from "../helpers/runtimes.ts";

// Inside the repository, so the printed schema's `import { z } from "zod"` resolves.
mkdirSync(join(repo, ".scratch"), { recursive: true });
const dir = mkdtempSync(join(repo, ".scratch", "infer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Kind = "integer" | "number" | "boolean" | "date" | "string";
const KINDS: Kind[] = ["integer", "number", "boolean", "date", "string"];

/** A typed value of a kind. */
const valueArb = (k: Kind): fc.Arbitrary<number | boolean | Date | string> => {
  switch (k) {
    case "integer":
      return fc.integer({ min: -1_000_000, max: 1_000_000 });
    case "number":
      return fc
        .double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true })
        .filter((x) => !Number.isInteger(x));
    case "boolean":
      return fc.boolean();
    case "date":
      return fc
        .date({ min: new Date("1970-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
        .map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000));
    case "string":
      return fc.string({ maxLength: 12 }).map((s) => `s${s}`);
  }
};

/** Columns: a kind, whether it has nulls; rows: one value (or null) per column. */
const table = fc
  .array(fc.record({ kind: fc.constantFrom(...KINDS), nulls: fc.boolean() }), { minLength: 1, maxLength: 6 })
  .chain((cols) =>
    fc
      .array(
        fc.tuple(...cols.map((c) => (c.nulls ? fc.option(valueArb(c.kind), { freq: 3 }) : valueArb(c.kind)))),
        { minLength: 2, maxLength: 40 },
      )
      .map((rows) => ({ cols, rows })),
  )
  .filter(({ cols, rows }) => cols.every((_, j) => rows.some((r) => r[j] !== null)));

const text = (v: unknown, dateOnly: boolean): string =>
  v === null
    ? ""
    : v instanceof Date
      ? dateOnly
        ? v.toISOString().slice(0, 10)
        : v.toISOString()
      : String(v);
const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;

let n = 0;
async function importPrinted(source: string): Promise<import("zod").ZodType> {
  const file = join(dir, `printed-${n++}.ts`);
  writeFileSync(file, source);
  const mod = await import(file);
  return Object.values(mod)[0] as import("zod").ZodType;
}

describe("schema inference", () => {
  it("CSV: each column's kind and nullability; every row passes, typed; the printed schema agrees", async () => {
    await fc.assert(
      fc.asyncProperty(table, fc.boolean(), async ({ cols, rows }, dateOnly) => {
        const names = cols.map((_, j) => `c${j}`);
        const lines = [names.join(","), ...rows.map((r) => r.map((v) => quote(text(v, dateOnly))).join(","))];
        const file = join(dir, `t${n++}.csv`);
        writeFileSync(file, `${lines.join("\n")}\n`);
        const records = await sampleFile(file, "csv", { n: 1000 });
        const s = inferSchema(records, { text: true });
        expect(s.sampled).toBe(rows.length);
        expect(s.fields.map((f) => f.kind)).toEqual(cols.map((c) => c.kind as FieldKind));
        expect(s.fields.map((f) => f.nullable)).toEqual(cols.map((_, j) => rows.some((r) => r[j] === null)));
        const schema = toZod(s);
        const printed = await importPrinted(toTypeScript(s, "T", "a test"));
        for (let i = 0; i < rows.length; i++) {
          const out = schema.parse(records[i]) as Record<string, unknown>;
          expect(printed.parse(records[i])).toEqual(out);
          cols.forEach((c, j) => {
            const v = rows[i][j];
            const got = out[names[j]];
            if (c.kind === "string") expect(got).toBe(v ?? "");
            else if (v === null) expect(got).toBeNull();
            else if (v instanceof Date)
              expect((got as Date).getTime()).toBe(dateOnly ? Date.parse(text(v, true)) : v.getTime());
            else expect(got).toBe(v);
          });
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it("NDJSON: kinds, nulls and missing keys (optional); the printed schema agrees", async () => {
    await fc.assert(
      fc.asyncProperty(table, fc.boolean(), async ({ cols, rows }, dropNulls) => {
        const names = cols.map((_, j) => `c${j}`);
        const objects = rows.map((r) =>
          Object.fromEntries(
            r.flatMap((v, j) =>
              v === null && dropNulls ? [] : [[names[j], v instanceof Date ? v.toISOString() : v]],
            ),
          ),
        );
        const file = join(dir, `t${n++}.ndjson`);
        writeFileSync(file, `${objects.map((o) => JSON.stringify(o)).join("\n")}\n`);
        const records = await sampleFile(file, "ndjson", { n: 1000 });
        const s = inferSchema(records, { text: false });
        const byName = new Map(s.fields.map((f) => [f.name, f]));
        cols.forEach((c, j) => {
          const f = byName.get(names[j])!;
          const hasNull = rows.some((r) => r[j] === null);
          expect(f.kind).toBe(c.kind);
          expect(f.nullable).toBe(hasNull && !dropNulls);
          expect(f.optional).toBe(hasNull && dropNulls);
        });
        const schema = toZod(s);
        const printed = await importPrinted(toTypeScript(s, "T", "a test"));
        for (const r of records) {
          const res = schema.safeParse(r);
          expect(res.success, JSON.stringify(res.error?.issues)).toBe(true);
          expect(printed.parse(r)).toEqual(res.data);
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it("csv(path, { infer: true }) dead-letters values that break their inferred column", async () => {
    const file = join(dir, "break.csv");
    const rows = ["id,price,ok,day"];
    for (let i = 0; i < 30; i++)
      rows.push(`${i},${i}.5,${i % 2 === 0},2024-01-${String((i % 28) + 1).padStart(2, "0")}`);
    rows.push(
      "x,1.5,true,2024-02-01",
      "31,,true,2024-02-01",
      "32,1,maybe,2024-02-01",
      "33,1,true,soon",
      "34,1,true,2024-02-02",
    );
    writeFileSync(file, `${rows.join("\n")}\n`);
    const bus = new EventBus();
    const dead: EventOf<"dead.letter">[] = [];
    bus.subscribe((e) => e.kind === "dead.letter" && dead.push(e));
    const out = collect();
    const s = await runPipeline(
      pipeline("inf")
        .from(csv(file, { infer: { sample: 30 } }))
        .to(out),
      {
        home: dir,
        bus,
      },
    );
    expect(out.records).toHaveLength(31);
    expect(out.records[0]).toEqual({ id: 0, price: 0.5, ok: true, day: new Date("2024-01-01") });
    expect(dead.map((d) => [d.position.line, d.reason.split(":")[1].trim()])).toEqual([
      [32, "id"],
      [33, "price"],
      [34, "ok"],
      [35, "day"],
    ]);
    expect(s.rowsIn).toBe(s.rowsOut + s.deadLettered);
  });
});
