import { describe, expect, it } from "vitest";
import { normaliseReason } from "../../../src/events/dead-letter-reason.ts";
import {
  type CsvHeader,
  CsvParser,
  type CsvParserOptions,
} from "../../../src/sources/internal/csv-parser.ts";
import { feed, split, utf8 } from "./feed.ts";

function parse<H extends CsvHeader = true>(
  input: string | Uint8Array,
  options: CsvParserOptions<H> = {},
  sizes?: number | number[],
) {
  const bytes = typeof input === "string" ? utf8(input) : input;
  const pieces = sizes === undefined ? [bytes] : split(bytes, sizes);
  return feed(new CsvParser<H>(options), pieces, {
    input: bytes,
    startOffset: options.startOffset,
    startLine: options.startLine,
  });
}

describe("CsvParser: records", () => {
  it("reads a header row into objects keyed by column", () => {
    const r = parse("id,name\n1,Ada\n2,Bob\n");
    expect(r.records).toEqual([
      { id: "1", name: "Ada" },
      { id: "2", name: "Bob" },
    ]);
    expect(r.errors).toEqual([]);
    expect(Object.keys(r.records[0])).toEqual(["id", "name"]);
  });

  it("returns string arrays with header: false and uses given names with header: string[]", () => {
    expect(parse("1,Ada\n2,Bob\n", { header: false }).records).toEqual([
      ["1", "Ada"],
      ["2", "Bob"],
    ]);
    expect(parse("1,Ada\n", { header: ["id", "name"] }).records).toEqual([{ id: "1", name: "Ada" }]);
  });

  it("keeps every value as the exact unquoted string", () => {
    const r = parse('a,b,c\n 1 ,"x, y",007\n', { header: true });
    expect(r.records).toEqual([{ a: " 1 ", b: "x, y", c: "007" }]);
  });

  it("reads quoted fields with doubled quotes, delimiters, LF and CRLF inside", () => {
    const r = parse('a,b\r\n"say ""hi""","x,y"\r\n"line1\nline2","l1\r\nl2"\r\n"",""""\r\n', {
      header: true,
    });
    expect(r.records).toEqual([
      { a: 'say "hi"', b: "x,y" },
      { a: "line1\nline2", b: "l1\r\nl2" },
      { a: "", b: '"' },
    ]);
    expect(r.positions.map((p) => p.line)).toEqual([2, 3, 6]);
  });

  it("accepts LF, CRLF and a missing final newline", () => {
    expect(parse("a,b\n1,2\r\n3,4", { header: true }).records).toEqual([
      { a: "1", b: "2" },
      { a: "3", b: "4" },
    ]);
    expect(parse("a,b\n1,2\r", { header: true }).records).toEqual([{ a: "1", b: "2" }]);
  });

  it("reads empty fields", () => {
    expect(parse(',,\n"",a,\n,"",""\n', { header: false }).records).toEqual([
      ["", "", ""],
      ["", "a", ""],
      ["", "", ""],
    ]);
  });

  it("keeps a CR that does not end the row", () => {
    expect(parse("a\rb,c\n", { header: false }).records).toEqual([["a\rb", "c"]]);
  });

  it("skips empty lines by default (counting them as lines) or reads them as one empty field", () => {
    const r = parse("a,b\n\n1,2\r\n\r\n3,4\n\n", { header: true });
    expect(r.records).toEqual([
      { a: "1", b: "2" },
      { a: "3", b: "4" },
    ]);
    expect(r.positions.map((p) => p.line)).toEqual([3, 5]);
    expect(parse("x\n\ny\n", { header: false, skipEmptyLines: false }).records).toEqual([["x"], [""], ["y"]]);
  });

  it("strips a UTF-8 BOM at file start only, counting its bytes in offsets", () => {
    const r = parse("\ufeffid\n1\n", { header: true });
    expect(r.records).toEqual([{ id: "1" }]);
    expect(r.positions[0]).toEqual({ line: 2, byteOffset: 6 });
    expect(parse("\ufeffid\n1\n", { header: true }, 1).records).toEqual([{ id: "1" }]);
    expect(parse("x\n\ufeffy\n", { header: false }).records).toEqual([["x"], ["\ufeffy"]]);
    const resumed = parse("\ufeffy\n", { header: false, startOffset: 10 });
    expect(resumed.records).toEqual([["\ufeffy"]]);
    const partialBom = new Uint8Array([0xef, 0xbb, 0x41, 0x0a]);
    expect(parse(partialBom, { header: false, encoding: "replace" }, 1).records).toEqual([["\ufffdA"]]);
    expect(parse(partialBom, { header: false }, 1).errors).toMatchObject([
      { line: 1, byteOffset: 0, reason: expect.stringContaining("byte offset 0 (line 1) holds EF BB 41") },
    ]);
  });

  it("reads multibyte text split anywhere", () => {
    const text = "name,city\nZoë,東京\n😀,e\u0301\n";
    for (let size = 1; size <= 8; size++) {
      expect(parse(text, { header: true }, size).records).toEqual([
        { name: "Zoë", city: "東京" },
        { name: "😀", city: "e\u0301" },
      ]);
    }
  });

  it("supports a custom delimiter and quote", () => {
    expect(parse("a;b\n'x;y';'it''s'\n", { delimiter: ";", quote: "'" }).records).toEqual([
      { a: "x;y", b: "it's" },
    ]);
    expect(parse('a\tb\n"1\t2"\t3\n', { delimiter: "\t" }).records).toEqual([{ a: "1\t2", b: "3" }]);
  });

  it("renames duplicate header names to names the header does not have, and exposes the columns", () => {
    const p = new CsvParser();
    const b = p.push(utf8("a,a,b,a_1\n1,2,3,4\n"));
    expect(p.columns).toEqual(["a", "a_2", "b", "a_1"]);
    expect(b.records).toEqual([{ a: "1", a_2: "2", b: "3", a_1: "4" }]);
    // The case: the file's own c_1 keeps its name and value (papaparse gives the same).
    expect(parse("c,c,c,c_1\n1,2,3,4\n").records).toEqual([{ c: "1", c_2: "2", c_3: "3", c_1: "4" }]);
    expect(parse("c_1,c,c,c\n1,2,3,4\n").records).toEqual([{ c_1: "1", c: "2", c_2: "3", c_3: "4" }]);
    expect(parse("x,x,x_1,x_2,x\n1,2,3,4,5\n").records).toEqual([
      { x: "1", x_3: "2", x_1: "3", x_2: "4", x_4: "5" },
    ]);
  });

  it("makes __proto__ and other odd names own properties", () => {
    const r = parse('__proto__,constructor,"",1,"a""b"\nx,y,z,w,v\n');
    const rec = r.records[0];
    expect(Object.getPrototypeOf(rec)).toBe(Object.prototype);
    expect(Object.keys(rec)).toEqual(["1", "__proto__", "constructor", "", 'a"b']);
    expect(Object.getOwnPropertyDescriptor(rec, "__proto__")?.value).toBe("x");
    expect(rec[""]).toBe("z");
  });

  it("gives every record the same shape (one hidden class)", () => {
    const r = parse("b,a\n1,2\n3,4\n");
    expect(Object.keys(r.records[0])).toEqual(Object.keys(r.records[1]));
  });
});

describe("CsvParser: row errors", () => {
  it("reports ragged records with line, byte offset, raw text and reason, and goes on", () => {
    const r = parse("a,b\n1,2\n3\n4,5,6\r\n7,8\n", { header: true });
    expect(r.records).toEqual([
      { a: "1", b: "2" },
      { a: "7", b: "8" },
    ]);
    expect(r.errors).toEqual([
      { line: 3, byteOffset: 8, raw: "3", reason: expect.stringContaining("expected 2 fields"), lines: 1 },
      { line: 4, byteOffset: 10, raw: "4,5,6", reason: expect.stringContaining("found 3"), lines: 1 },
    ]);
  });

  it("does not check widths of arrays without a header", () => {
    expect(parse("1\n2,3\n", { header: false }).records).toEqual([["1"], ["2", "3"]]);
  });

  it("reports an unterminated quote at the end of input", () => {
    const r = parse('a,b\n1,2\n3,"open\nmore\n', { header: true });
    expect(r.records).toEqual([{ a: "1", b: "2" }]);
    expect(r.errors).toEqual([
      {
        line: 3,
        byteOffset: 8,
        raw: '3,"open\nmore\n',
        reason: expect.stringContaining("not closed"),
        lines: 2,
      },
    ]);
    expect(r.endOffset).toBe(21);
    expect(r.endLine).toBe(5);
  });

  it("reports a stray quote inside an unquoted field", () => {
    const r = parse('a,b\n1,x"y\n2,3\n', { header: true });
    expect(r.records).toEqual([{ a: "2", b: "3" }]);
    expect(r.errors).toEqual([
      {
        line: 2,
        byteOffset: 4,
        raw: '1,x"y',
        reason: expect.stringContaining("does not start with"),
        lines: 1,
      },
    ]);
  });

  it("reports text after a closing quote", () => {
    const r = parse('a,b\n"x"y,1\n2,3\n', { header: true });
    expect(r.records).toEqual([{ a: "2", b: "3" }]);
    expect(r.errors[0]).toMatchObject({ line: 2, byteOffset: 4, raw: '"x"y,1' });
    expect(r.errors[0].reason).toContain("closing");
  });

  it("reports a malformed header row but still names the columns from it", () => {
    const r = parse('a,b"\n1,2\n');
    expect(r.records).toEqual([{ a: "1", 'b"': "2" }]);
    expect(r.errors[0].reason).toMatch(/^header row: /);
  });

  it("counts lines inside quoted fields for the errors that follow", () => {
    const r = parse('a,b\n"x\ny\nz",1\nbad\n', { header: true });
    expect(r.errors).toMatchObject([{ line: 5, byteOffset: 14, raw: "bad" }]);
  });

  it("skips records longer than maxRecordBytes the same way whatever the buffer sizes", () => {
    const big = "x".repeat(50);
    const text = `a,b\n1,2\n${big},3\n"${big}\n${big}",4\n5,6`;
    const one = parse(text, { header: true, maxRecordBytes: 40 });
    expect(one.records).toEqual([
      { a: "1", b: "2" },
      { a: "5", b: "6" },
    ]);
    expect(one.errors).toMatchObject([
      { line: 3, byteOffset: 8, raw: "x".repeat(40) },
      { line: 4, byteOffset: 61 },
    ]);
    expect(one.errors[0].reason).toContain("maxRecordBytes (40 bytes)");
    expect(one.positions[1]).toEqual({ line: 6, byteOffset: 167 });
    for (const size of [1, 3, 7, 16, 41, 64]) {
      const r = parse(text, { header: true, maxRecordBytes: 40 }, size);
      expect(r.records).toEqual(one.records);
      expect(r.errors).toEqual(one.errors);
      expect(r.positions).toEqual(one.positions);
    }
  });

  it("bounds an unclosed quote by maxRecordBytes instead of buffering the rest of the input", () => {
    const text = `a\n"open\n${"y\n".repeat(100)}`;
    const r = parse(text, { header: true, maxRecordBytes: 64 }, 10);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ line: 2, byteOffset: 2 });
    expect(r.endOffset).toBe(utf8(text).length);
    expect(r.endLine).toBe(103);
  });

  it("keeps byte offsets exact across invalid UTF-8", () => {
    const bytes = new Uint8Array([
      ...utf8("a,b\n"),
      0xff,
      0xc3,
      ...utf8(",1\nx\n"),
      0xe2,
      0x82,
      ...utf8(",2\n3,4\n"),
    ]);
    const r = parse(bytes, { header: true, encoding: "replace" });
    expect(r.records).toEqual([
      { a: "\ufffd\ufffd", b: "1" },
      { a: "\ufffd", b: "2" },
      { a: "3", b: "4" },
    ]);
    expect(r.positions).toEqual([
      { line: 2, byteOffset: 4 },
      { line: 4, byteOffset: 11 },
      { line: 5, byteOffset: 16 },
    ]);
    expect(r.errors).toMatchObject([{ line: 3, byteOffset: 9, raw: "x" }]);
  });
});

describe("CsvParser: batches, positions and resuming", () => {
  const text = 'id,note\n1,"a\nb"\n2,héllo\n3,"x,""y"""\r\n4,\n';

  it("gives lazy positions and raw text per record", () => {
    const p = new CsvParser();
    const b = p.push(utf8(text));
    expect(b.records).toHaveLength(4);
    expect(b.raw(2)).toBe('3,"x,""y"""');
    expect(b.position(2)).toEqual({ line: 5, byteOffset: 25 });
    expect(b.position(0)).toEqual({ line: 2, byteOffset: 8 });
    expect(b.raw(0)).toBe('1,"a\nb"');
    expect(() => b.position(4)).toThrow(RangeError);
    expect(b.startOffset).toBe(0);
    expect(b.endOffset).toBe(41);
    expect(b.endLine).toBe(7);
    expect(p.position).toEqual({ byteOffset: 41, line: 7 });
  });

  it("resumes exactly from any batch end", () => {
    const bytes = utf8(text);
    const whole = parse(text, { header: true }, 5);
    const afterHeader = whole.ends.filter((e) => e.offset >= 8);
    expect(afterHeader.length).toBeGreaterThan(4);
    for (const end of afterHeader) {
      const rest = feed(
        new CsvParser({ header: ["id", "note"], startOffset: end.offset, startLine: end.line }),
        [bytes.subarray(end.offset)],
        {
          input: bytes.subarray(end.offset),
          startOffset: end.offset,
          startLine: end.line,
        },
      );
      expect(rest.records).toEqual(whole.records.slice(end.records));
      expect(rest.positions).toEqual(whole.positions.slice(end.records));
    }
  });

  it("gives the same result for every split of a tricky input", () => {
    const tricky = utf8(
      `\ufeffid,"na""me",note\r\n1,"Zoë ""Z""","multi\r\nline, 東京"\n2,,😀\r\n\n3,"",e\u0301\n4,x"y,z\n${"z".repeat(45)}\n5,"unclosed, 🎉`,
    );
    const opts = { header: true as const, maxRecordBytes: 40 };
    const ref = parse(tricky, opts);
    expect(ref.records).toEqual([
      { id: "1", 'na"me': 'Zoë "Z"', note: "multi\r\nline, 東京" },
      { id: "2", 'na"me': "", note: "😀" },
      { id: "3", 'na"me': "", note: "e\u0301" },
    ]);
    expect(ref.errors.map((e) => e.line)).toEqual([7, 8, 9]);
    for (let size = 1; size <= tricky.length; size++) {
      expect(parse(tricky, opts, size)).toEqual({ ...ref, ends: expect.anything() });
    }
    for (let at = 1; at < tricky.length; at++) {
      expect(parse(tricky, opts, [at, tricky.length])).toEqual({ ...ref, ends: expect.anything() });
    }
  });

  it("rejects invalid options and misuse", () => {
    expect(() => new CsvParser({ delimiter: ";;" })).toThrow(TypeError);
    expect(() => new CsvParser({ delimiter: "é" })).toThrow(TypeError);
    expect(() => new CsvParser({ quote: "\n" })).toThrow(TypeError);
    expect(() => new CsvParser({ delimiter: '"' })).toThrow(TypeError);
    expect(() => new CsvParser({ header: ["a", "a"] })).toThrow(TypeError);
    expect(() => new CsvParser({ maxRecordBytes: 0 })).toThrow(RangeError);
    const p = new CsvParser();
    p.finish();
    expect(() => p.push(utf8("a"))).toThrow();
  });
});

describe("CsvParser: encodings", () => {
  const bytes = (...parts: (string | number[])[]) =>
    new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...utf8(p)] : p)));

  it("sends records holding invalid UTF-8 to the errors, naming the first bad byte, whatever the split", () => {
    // The input: a,b\n1,\xff\xfe\n3,\xc3\x28\n, plus a good row and a quoted two-line record.
    const input = bytes(
      "a,b\n1,",
      [0xff, 0xfe],
      "\n3,",
      [0xc3, 0x28],
      '\n5,ok\n6,"x\ny',
      [0xe2, 0x82],
      '"\n7,é\n',
    );
    const ref = parse(input, { header: true });
    expect(ref.records).toEqual([
      { a: "5", b: "ok" },
      { a: "7", b: "é" },
    ]);
    expect(ref.errors).toMatchObject([
      {
        line: 2,
        byteOffset: 4,
        lines: 1,
        reason: expect.stringContaining("byte offset 6 (line 2) holds FF FE"),
      },
      {
        line: 3,
        byteOffset: 9,
        lines: 1,
        reason: expect.stringContaining("byte offset 11 (line 3) holds C3 28"),
      },
      {
        line: 5,
        byteOffset: 19,
        lines: 2,
        reason: expect.stringContaining("byte offset 25 (line 6) holds E2 82 22"),
      },
    ]);
    for (const e of ref.errors)
      expect(e.reason).toMatch(/^not valid UTF-8: .*encoding option to "latin1" or "replace"/);
    for (let size = 1; size <= input.length; size++)
      expect(parse(input, { header: true }, size)).toEqual({ ...ref, ends: expect.anything() });
  });

  it("reads a header with invalid UTF-8 (reported) and keeps the records after it", () => {
    const r = parse(bytes("a", [0xff], ",b\n1,2\n"), { header: true });
    expect(r.errors).toMatchObject([
      { line: 1, reason: expect.stringMatching(/^header row: not valid UTF-8/) },
    ]);
    expect(r.records).toEqual([{ "a\ufffd": "1", b: "2" }]);
  });

  it("reads overlong forms, surrogates and truncated sequences as invalid, and all valid UTF-8 as valid", () => {
    for (const bad of [
      [0xc0, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
      [0x80],
      [0xf8],
    ]) {
      expect(parse(bytes("x\n", bad, "\n"), { header: true }).errors).toHaveLength(1);
    }
    const valid = "é東😀\u{10ffff}\u{e000}\u007f";
    expect(parse(`x\n${valid}\n`, { header: true }).records).toEqual([{ x: valid }]);
  });

  it("decodes latin1 one byte a character, with exact offsets, and keeps a UTF-8 BOM as text", () => {
    // (`feed` without `input`: its position check decodes the input as UTF-8.)
    const input = bytes("a,b\n", [0xe9, 0xff], ",1\n2,", [0x80], "\n");
    const r = feed(new CsvParser({ header: true, encoding: "latin1" }), split(input, 3));
    expect(r.errors).toEqual([]);
    expect(r.records).toEqual([
      { a: "éÿ", b: "1" },
      { a: "2", b: "\u0080" },
    ]);
    expect(r.positions).toEqual([
      { line: 2, byteOffset: 4 },
      { line: 3, byteOffset: 9 },
    ]);
    expect(parse(bytes([0xef, 0xbb, 0xbf], "x\n1\n"), { encoding: "latin1" }).records).toEqual([
      { "ï»¿x": "1" },
    ]);
  });
});

describe("CsvParser: long records and relaxed quotes", () => {
  it("warns about a record spanning more than warnLines lines, wherever it ends, whatever the split", () => {
    const body = Array.from({ length: 30 }, (_, i) => `${i},row`).join("\n");
    // A stray quote on line 3 swallows the next 30 lines until the quote on line 34 closes it.
    const text = `a,b\n1,ok\n2,"open\n${body}\n"\n3,ok\n4,"never closed\n${body}\n`;
    const opts = { header: true as const, warnLines: 10 };
    const ref = parse(text, opts);
    expect(ref.records).toEqual([
      { a: "1", b: "ok" },
      { a: "2", b: `open\n${body}\n` },
      { a: "3", b: "ok" },
    ]);
    expect(ref.warnings).toEqual([
      {
        line: 3,
        byteOffset: 9,
        lines: 32,
        bytes: expect.any(Number),
        message: expect.stringMatching(/^the record starting at line 3 covers 32 lines/),
      },
      {
        line: 36,
        byteOffset: expect.any(Number),
        lines: 31,
        bytes: expect.any(Number),
        message: expect.stringContaining("line 36"),
      },
    ]);
    expect(ref.errors).toMatchObject([
      { line: 36, lines: 31, reason: expect.stringContaining("not closed") },
    ]);
    for (const size of [1, 5, 17, 64, 300])
      expect(parse(text, opts, size)).toEqual({ ...ref, ends: expect.anything() });
    // The default limit (1000 lines) is not reached: no warning.
    expect(parse(text, { header: true }).warnings).toEqual([]);
  });

  it("warns about records over warnBytes and counts the lines of skipped oversized records", () => {
    const text = `a\n"${"y\n".repeat(100)}"\n1\n"open\n${"z\n".repeat(100)}`;
    const r = parse(text, { header: true, warnBytes: 150, maxRecordBytes: 64 }, 10);
    expect(r.records).toEqual([{ a: "1" }]);
    expect(r.errors).toMatchObject([
      { line: 2, lines: 101, rawBytes: 202, raw: `"${"y\n".repeat(31)}y` },
      { line: 104, lines: 101, rawBytes: 206 },
    ]);
    expect(r.warnings.map((w) => [w.line, w.lines, w.bytes])).toEqual([
      [2, 101, 202],
      [104, 101, 206],
    ]);
  });

  it("a long record on one line is called long, not blamed on a quote that is not there", () => {
    const text = `a,b\n1,${"x".repeat(400)}\n2,ok\n`;
    for (const size of [7, 64, 1000]) {
      const r = parse(text, { header: true, warnBytes: 150 }, size);
      expect(r.records).toHaveLength(2);
      expect(r.warnings.map((w) => w.message)).toEqual([
        "the record at line 2 is 402 bytes long (one line). Set warnRecordBytes if records this long are expected",
      ]);
    }
  });

  it("a quote left open on the last line is blamed on the quote, not called simply long", () => {
    const text = `a,b\n1,ok\n2,"${"x".repeat(400)}\n`;
    for (const size of [7, 64, 1000]) {
      const r = parse(text, { header: true, warnBytes: 150 }, size);
      expect(r.errors.map((e) => e.reason)).toEqual([
        "a quoted field in the record starting at line 3 is not closed before the end of the input; close it with a double quote (one inside a quoted field is written twice)",
      ]);
      expect(r.warnings.map((w) => w.message)).toEqual([
        `the record at line 3 runs 404 bytes to the end of the input: ${r.errors[0]?.reason}`,
      ]);
      // Grouped as it reads (its quote is named, not shown twice, which would read as quoted text).
      expect(normaliseReason(r.errors[0]?.reason ?? "")).toBe(
        "a quoted field in the record starting at line <n> is not closed before the end of the input; close it with a double quote (one inside a quoted field is written twice)",
      );
    }
  });

  it("names the quote in words in a stray or closed-early quote's reason, which groups as it reads", () => {
    const r = parse('a,b\n1,x"y\n"q"r,2\n', { header: true });
    const reasons = r.errors.map((e) => e.reason);
    expect(reasons).toEqual([
      "a double quote appears inside a field that does not start with one; quote the whole field and write each double quote inside it twice",
      "text follows the closing double quote of a quoted field; quote the whole field and write each double quote inside it twice",
    ]);
    expect(reasons.map(normaliseReason)).toEqual(reasons);
  });

  it("keeps stray quotes and text after a closing quote as data with relaxQuotes, as Python does", () => {
    const text = 'a,b\n1,x"y\n"q"r,2\n3,"ok"\n';
    expect(parse(text, { header: true }).records).toEqual([{ a: "3", b: "ok" }]);
    const r = parse(text, { header: true, relaxQuotes: true });
    expect(r.errors).toEqual([]);
    expect(r.records).toEqual([
      { a: "1", b: 'x"y' },
      { a: "qr", b: "2" },
      { a: "3", b: "ok" },
    ]);
  });
});
