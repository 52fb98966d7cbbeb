import { describe, expect, it } from "vitest";
import { NdjsonParser, type NdjsonParserOptions } from "../../../src/sources/internal/ndjson-parser.ts";
import { feed, split, utf8 } from "./feed.ts";

function parse(input: string | Uint8Array, options: NdjsonParserOptions = {}, sizes?: number | number[]) {
  const bytes = typeof input === "string" ? utf8(input) : input;
  const pieces = sizes === undefined ? [bytes] : split(bytes, sizes);
  return feed(new NdjsonParser(options), pieces, {
    input: bytes,
    startOffset: options.startOffset,
    startLine: options.startLine,
  });
}

describe("NdjsonParser", () => {
  it("reads one JSON value per line, of any kind", () => {
    const r = parse('{"id":1,"tags":["a"]}\n[1,2]\n"text"\n3.5\nnull\ntrue\n');
    expect(r.records).toEqual([{ id: 1, tags: ["a"] }, [1, 2], "text", 3.5, null, true]);
    expect(r.errors).toEqual([]);
    expect(r.positions.map((p) => p.line)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("skips blank and whitespace-only lines, tolerates CRLF and a missing final newline", () => {
    const r = parse('{"a":1}\r\n\r\n  \t \n\n{"a":2}\r\n{"a":3}');
    expect(r.records).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(r.positions).toEqual([
      { line: 1, byteOffset: 0 },
      { line: 5, byteOffset: 17 },
      { line: 6, byteOffset: 26 },
    ]);
    expect(r.raws).toEqual(['{"a":1}', '{"a":2}', '{"a":3}']);
  });

  it("reports invalid lines with line, byte offset, raw text and the JSON error, and goes on", () => {
    const r = parse('{"a":1}\n{"a":\n1 2\n{"é":"ü"}\n{bad}\r\n');
    expect(r.records).toEqual([{ a: 1 }, { é: "ü" }]);
    expect(r.errors).toMatchObject([
      { line: 2, byteOffset: 8, raw: '{"a":' },
      { line: 3, byteOffset: 14, raw: "1 2" },
      { line: 5, byteOffset: 30, raw: "{bad}" },
    ]);
    for (const e of r.errors) expect(e.reason).toMatch(/^invalid JSON: .+one JSON value/);
  });

  it("strips a BOM at file start and reads multibyte text split anywhere", () => {
    const text = '\ufeff{"city":"東京"}\n{"e":"😀e\u0301"}\n';
    for (let size = 1; size <= 9; size++) {
      const r = parse(text, {}, size);
      expect(r.records).toEqual([{ city: "東京" }, { e: "😀e\u0301" }]);
      expect(r.positions[0].byteOffset).toBe(3);
    }
  });

  it("gives the same result for every split of a tricky input", () => {
    const input = utf8(`\ufeff{"a":"x"}\r\n\n[1,\n{"b":"ü"}\n${"9".repeat(40)}\n"end 🎉"`);
    const opts = { maxRecordBytes: 32 };
    const ref = parse(input, opts);
    expect(ref.records).toEqual([{ a: "x" }, { b: "ü" }, "end 🎉"]);
    expect(ref.errors.map((e) => e.line)).toEqual([3, 5]);
    expect(ref.errors[1].reason).toContain("maxRecordBytes (32 bytes)");
    for (let size = 1; size <= input.length; size++) {
      expect(parse(input, opts, size)).toEqual({ ...ref, ends: expect.anything() });
    }
    for (let at = 1; at < input.length; at++) {
      expect(parse(input, opts, [at, input.length])).toEqual({ ...ref, ends: expect.anything() });
    }
  });

  it("bounds a line without LF by maxRecordBytes", () => {
    const text = `{"a":1}\n${"x".repeat(1000)}\n{"a":2}\n`;
    const r = parse(text, { maxRecordBytes: 100 }, 7);
    expect(r.records).toEqual([{ a: 1 }, { a: 2 }]);
    expect(r.errors).toMatchObject([{ line: 2, byteOffset: 8, raw: "x".repeat(100) }]);
  });

  it("resumes exactly from any batch end", () => {
    const text = '{"n":1}\n{"n":"é"}\n\n{"n":3}\nbad\n{"n":5}\n';
    const bytes = utf8(text);
    const whole = parse(text, {}, 4);
    for (const end of whole.ends) {
      const rest = feed(
        new NdjsonParser({ startOffset: end.offset, startLine: end.line }),
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
});

describe("NdjsonParser: encodings", () => {
  it("sends a line holding invalid UTF-8 to the errors naming the bad byte, or reads it as asked", () => {
    const input = new Uint8Array([...utf8('{"a":1}\n{"b":"'), 0xff, ...utf8('"}\n{"c":"é"}\n')]);
    const strict = feed(new NdjsonParser(), split(input, 5), { input });
    expect(strict.records).toEqual([{ a: 1 }, { c: "é" }]);
    expect(strict.errors).toMatchObject([
      {
        line: 2,
        byteOffset: 8,
        lines: 1,
        reason: expect.stringContaining("byte offset 14 (line 2) holds FF"),
      },
    ]);
    expect(feed(new NdjsonParser({ encoding: "replace" }), [input]).records[1]).toEqual({ b: "\ufffd" });
    expect(feed(new NdjsonParser({ encoding: "latin1" }), [input]).records[1]).toEqual({ b: "ÿ" });
  });
});
