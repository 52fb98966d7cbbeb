import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DecodedText,
  HighByteScanner,
  pieceEnd,
  truncateUtf8,
  utf8Length,
} from "../../../src/sources/internal/utf8.ts";

const enc = new TextEncoder();

describe("utf8 helpers", () => {
  it("utf8Length agrees with TextEncoder, on any range", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.nat(), fc.nat(), (s, a, b) => {
        const t = s.replace(/\p{Surrogate}/gu, "?"); // TextEncoder would replace lone surrogates
        const [from, to] = [Math.min(a, b) % (t.length + 1), Math.max(a, b) % (t.length + 1)].sort(
          (x, y) => x - y,
        );
        const cut = (i: number) => (i > 0 && /[\ud800-\udbff]/.test(t[i - 1]) ? i + 1 : i); // not inside a pair
        expect(utf8Length(t, cut(from), Math.max(cut(from), cut(to)))).toBe(
          enc.encode(t.slice(cut(from), Math.max(cut(from), cut(to)))).length,
        );
      }),
    );
  });

  it("truncateUtf8 keeps the longest prefix that fits, never half a pair", () => {
    expect(truncateUtf8("aé😀b", 1)).toBe("a");
    expect(truncateUtf8("aé😀b", 3)).toBe("aé");
    expect(truncateUtf8("aé😀b", 6)).toBe("aé");
    expect(truncateUtf8("aé😀b", 7)).toBe("aé😀");
    expect(truncateUtf8("aé😀b", 99)).toBe("aé😀b");
  });

  it("maps line starts to exact byte offsets for ASCII, valid and invalid UTF-8", () => {
    const cases = [
      enc.encode("ab\ncd\nef\n"),
      enc.encode("é\n東京\n😀x\n"),
      new Uint8Array([0xff, 0x0a, 0xe2, 0x82, 0x0a, 0x61, 0xc3, 0x0a, 0x62, 0x0a]),
    ];
    for (const bytes of cases) {
      const t = DecodedText.decode(bytes, 100, 7, false);
      const lineStarts = [0];
      for (let i = 0; i < t.text.length; i++) if (t.text[i] === "\n") lineStarts.push(i + 1);
      const byteStarts = [0];
      for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) byteStarts.push(i + 1);
      const order = [...lineStarts.keys(), ...[...lineStarts.keys()].reverse()];
      for (const k of order) {
        expect(t.byteOffset(lineStarts[k])).toBe(100 + byteStarts[k]);
        expect(t.lineAt(lineStarts[k])).toBe(7 + k);
      }
    }
  });

  it("keeps no reference to the caller's bytes when they are valid", () => {
    const bytes = new Uint8Array([0xff, 0x0a, 0x41, 0x0a]);
    const t = DecodedText.decode(bytes, 0, 1, false);
    bytes.fill(0x0a);
    expect(t.byteOffset(2)).toBe(2);
    expect(t.text).toBe("\ufffd\nA\n");
  });

  it("finds the first non-ASCII byte at any alignment", () => {
    const buf = new Uint8Array(64).fill(0x61);
    const scanner = new HighByteScanner();
    for (let at = 0; at < 40; at++) {
      buf[at] = 0xc3;
      for (let from = 0; from <= at; from++) {
        const shift = from % 5;
        expect(scanner.next(buf.subarray(shift), from - shift, 40 - shift)).toBe(at - shift);
        expect(scanner.next(buf.subarray(shift, 41), from - shift, 40 - shift)).toBe(at - shift);
      }
      expect(scanner.next(buf, at + 1, 64)).toBe(-1);
      expect(new HighByteScanner().next(buf, 0, at)).toBe(-1);
      buf[at] = 0x61;
    }
    scanner.release();
    expect(scanner.next(new Uint8Array([0x61, 0x61, 0x61, 0x61, 0x61, 0x80]), 0, 6)).toBe(5);
  });

  it("cuts pieces by size whatever they hold, and says which are all ASCII", () => {
    const b = enc.encode(`aa\nbb\né1\n${"c".repeat(20)}\né2\nz\né3\n`);
    const scanner = new HighByteScanner();
    const pieces: Array<[string, boolean]> = [];
    for (let p = 0; p < b.length; ) {
      const e = pieceEnd(b, p, b.length, 8, scanner);
      pieces.push([new TextDecoder().decode(b.subarray(p, e)), scanner.ascii]);
      p = e;
    }
    expect(pieces).toEqual([
      ["aa\nbb\n", true],
      ["é1\n", false],
      [`${"c".repeat(20)}\n`, true],
      ["é2\nz\n", false],
      ["é3\n", false],
    ]);
  });

  it("cuts pieces after an LF, near the asked size", () => {
    const b = enc.encode("aaaa\nbb\ncccccccccc\nd\n");
    expect(pieceEnd(b, 0, b.length, 100)).toBe(b.length);
    expect(pieceEnd(b, 0, b.length, 7)).toBe(5);
    expect(pieceEnd(b, 0, b.length, 8)).toBe(8);
    expect(pieceEnd(b, 8, b.length, 4)).toBe(19);
  });

  it("says whether the piece it ended is ASCII, also for a line longer than the piece size", () => {
    const scanner = new HighByteScanner();
    const b = enc.encode(`aa\n${"x".repeat(40)}é\nbb\n`);
    expect(pieceEnd(b, 0, b.length, 1024, scanner)).toBe(b.length);
    expect(scanner.ascii).toBe(false);
    expect(pieceEnd(b, 0, b.length, 8, scanner)).toBe(3); // the high byte is past the cut
    expect(scanner.ascii).toBe(true);
    // A 44-byte line cut at 8 bytes: the high byte lies past the scanned size.
    expect(pieceEnd(b, 3, b.length, 8, scanner)).toBe(b.length - 3);
    expect(scanner.ascii).toBe(false);
    expect(pieceEnd(b, b.length - 3, b.length, 1, scanner)).toBe(b.length);
    expect(scanner.ascii).toBe(true);
  });
});
