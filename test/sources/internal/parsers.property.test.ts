/**
 * Property tests: serialised records read back equal; arbitrary bytes never throw, always tile the
 * input, and give the same result however they are split.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CsvParser } from "../../../src/sources/internal/csv-parser.ts";
import { NdjsonParser } from "../../../src/sources/internal/ndjson-parser.ts";
import { type Collected, feed, split, utf8 } from "./feed.ts";

/** `FC_SCALE=50 npx vitest run …` runs 50 times as many cases. */
const runs = (n: number) => ({ numRuns: n * Number(process.env.FC_SCALE ?? 1) });
const wellFormed = (s: string) => s.replace(/\p{Surrogate}/gu, "\ufffd");
const cell = fc
  .oneof(
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.string({
      unit: fc.constantFrom('"', "'", ",", ";", "\t", "\n", "\r", "a", " ", "é", "😀", "\ufeff"),
      maxLength: 8,
    }),
  )
  .map(wellFormed);
const sizes = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 });
const withoutEnds = <R>(c: Collected<R>) => ({ ...c, ends: [] });

function serialise(
  rows: string[][],
  delimiter: string,
  quote: string,
  eol: string,
  finalEol: boolean,
): string {
  const needs = (v: string) =>
    v.includes(delimiter) ||
    v.includes(quote) ||
    v.includes("\n") ||
    v.includes("\r") ||
    v.startsWith("\ufeff");
  const line = (row: string[]) =>
    row
      .map((v) =>
        needs(v) || (row.length === 1 && v === "") ? quote + v.replaceAll(quote, quote + quote) + quote : v,
      )
      .join(delimiter);
  return rows.map(line).join(eol) + (finalEol && rows.length > 0 ? eol : "");
}

describe("CSV properties", () => {
  it("reads back any records it is given, however the bytes are split", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 5 })
          .chain((w) => fc.array(fc.array(cell, { minLength: w, maxLength: w }), { maxLength: 12 })),
        fc.constantFrom(",", ";", "\t", "|"),
        fc.constantFrom('"', "'"),
        fc.constantFrom("\n", "\r\n"),
        fc.boolean(),
        sizes,
        (rows, delimiter, quote, eol, finalEol, cut) => {
          const bytes = utf8(serialise(rows, delimiter, quote, eol, finalEol));
          const r = feed(new CsvParser({ header: false, delimiter, quote }), split(bytes, cut), {
            input: bytes,
          });
          expect(r.errors).toEqual([]);
          expect(r.records).toEqual(rows);
          expect(r.endOffset).toBe(bytes.length);
        },
      ),
      runs(400),
    );
  });

  it("reads objects keyed by a header row", () => {
    fc.assert(
      fc.property(
        fc
          .uniqueArray(cell, { minLength: 1, maxLength: 5 })
          .chain((names) =>
            fc.tuple(
              fc.constant(names),
              fc.array(fc.array(cell, { minLength: names.length, maxLength: names.length })),
            ),
          ),
        sizes,
        ([names, rows], cut) => {
          const bytes = utf8(serialise([names, ...rows], ",", '"', "\n", true));
          const r = feed(new CsvParser({ header: true }), split(bytes, cut), { input: bytes });
          expect(r.errors).toEqual([]);
          expect(r.records).toEqual(rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]]))));
        },
      ),
      runs(200),
    );
  });

  it("never throws on arbitrary bytes, tiles them, and does not depend on how they are split", () => {
    const noisy = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .array(
          fc.constantFrom(0x22, 0x27, 0x2c, 0x0a, 0x0d, 0x61, 0xef, 0xbb, 0xbf, 0xc3, 0xa9, 0xf0, 0x9f),
          { maxLength: 300 },
        )
        .map((a) => new Uint8Array(a)),
    );
    fc.assert(
      fc.property(
        noisy,
        fc.constantFrom<boolean | string[]>(true, false, ["a", "b"]),
        fc.constantFrom('"', "'"),
        fc.integer({ min: 1, max: 80 }),
        fc.boolean(),
        sizes,
        (bytes, header, quote, maxRecordBytes, skipEmptyLines, cut) => {
          const make = () =>
            new CsvParser<boolean | string[]>({ header, quote, maxRecordBytes, skipEmptyLines });
          const whole = feed(make(), [bytes], { input: bytes });
          const pieces = feed(make(), split(bytes, cut), { input: bytes });
          expect(whole.endOffset).toBe(bytes.length);
          expect(withoutEnds(pieces)).toEqual(withoutEnds(whole));
        },
      ),
      runs(500),
    );
  });
});

describe("NDJSON properties", () => {
  it("reads back any JSON values, one per line", () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), fc.constantFrom("\n", "\r\n"), sizes, (values, eol, cut) => {
        const expected = values.map((v) => JSON.parse(JSON.stringify(v)));
        const bytes = utf8(values.map((v) => JSON.stringify(v)).join(eol));
        const r = feed(new NdjsonParser(), split(bytes, cut), { input: bytes });
        expect(r.errors).toEqual([]);
        expect(r.records).toEqual(expected);
      }),
      runs(300),
    );
  });

  it("never throws on arbitrary bytes and does not depend on how they are split", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 1, max: 80 }),
        sizes,
        (bytes, maxRecordBytes, cut) => {
          const whole = feed(new NdjsonParser({ maxRecordBytes }), [bytes], { input: bytes });
          const pieces = feed(new NdjsonParser({ maxRecordBytes }), split(bytes, cut), { input: bytes });
          expect(whole.endOffset).toBe(bytes.length);
          expect(withoutEnds(pieces)).toEqual(withoutEnds(whole));
        },
      ),
      runs(300),
    );
  });
});
