/**
 * @module An incremental NDJSON (JSON Lines) parser fed with raw file bytes, one call per read buffer.
 *
 * Why this shape: NDJSON is CSV's sibling in the engine, so it shares the byte side (`LineParser`
 * in `utf8.ts`: BOM, carry, LF-aligned decoding in pieces, exact offsets, oversized-record skipping)
 * and differs only in the hot loop, which is one `indexOf("\n")` and one `JSON.parse` per line. A
 * JSON text cannot hold a raw LF, so a record always ends at the next LF and the record-end scanner
 * is a plain byte search. Whitespace-only lines are skipped; a CR before the LF is JSON whitespace
 * and is tolerated; a line that is not one JSON value becomes a row error with the parser's message.
 */
import type { TextBatch } from "./batch.ts";
import { LineParser, type LineParserOptions, MAX_RAW_BYTES } from "./line-parser.ts";
import type { DecodedText } from "./utf8.ts";

export type { ParseBatch, RecordPosition, RowError } from "./batch.ts";

export interface NdjsonParserOptions extends LineParserOptions {}

const LF = 0x0a;
const CR = 0x0d;
const BLANK = /^[ \t\r]*$/;

/**
 * Parses NDJSON incrementally from bytes: one JSON value per line. Invalid lines are returned as
 * row errors, never thrown.
 *
 * @example
 * ```ts
 * const parser = new NdjsonParser();
 * const batch = parser.push(new TextEncoder().encode('{"id":1}\n{"id":2}\nnot json\n'));
 * batch.records; // [{ id: 1 }, { id: 2 }]
 * batch.errors[0].line; // 3
 * ```
 */
export class NdjsonParser extends LineParser<unknown> {
  constructor(options: NdjsonParserOptions = {}) {
    super(options, lineEnd);
  }

  protected resetScan(): void {}

  protected unfinishedReason(): string {
    return "the input ended inside a record"; // unreachable: a record always ends at an LF or the input's end
  }

  protected scanBytes(bytes: Uint8Array, from: number, to: number): number {
    const e = bytes.indexOf(LF, from);
    return e < to ? e : -1;
  }

  protected parseText(t: DecodedText, batch: TextBatch<unknown>, lines: { n: number }): number {
    const s = t.text;
    const n = s.length;
    const records = batch.records;
    const starts = batch.starts;
    const maxChars = Math.floor(this.maxRecordBytes / 3);
    const badLines = t.badLines ?? NO_LINES;
    let badK = 0;
    let nextBad = badLines.length > 0 ? badLines[0] : n + 1;
    let line = 0;
    for (let i = 0; i < n; line++) {
      const nl = s.indexOf("\n", i);
      const end = nl > i && s.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
      if (end > i) {
        const invalid = line === nextBad ? t.invalidReason(line, line + 1) : undefined;
        if (invalid !== undefined) nextBad = ++badK < badLines.length ? badLines[badK] : n + 1;
        if (nl - i > maxChars && t.bytesBefore(nl + 1) - 1 - t.bytesBefore(i) > this.maxRecordBytes) {
          const raw = t.prefix(i, end, Math.min(MAX_RAW_BYTES, this.maxRecordBytes));
          const byteOffset = t.byteOffset(i);
          batch.errors.push({
            line: t.lineStart + line,
            byteOffset,
            raw,
            reason: this.tooLongReason(),
            lines: 1,
            rawBytes: t.byteStart + t.bytesBefore(nl + 1) - 1 - byteOffset,
          });
        } else if (invalid !== undefined) {
          batch.errors.push({
            line: t.lineStart + line,
            byteOffset: t.byteOffset(i),
            raw: s.slice(i, end),
            reason: invalid,
            lines: 1,
          });
        } else {
          const text = s.slice(i, end);
          try {
            records.push(JSON.parse(text));
            starts.push(i);
          } catch (e) {
            if (!BLANK.test(text)) {
              const message = e instanceof Error ? e.message : String(e);
              batch.errors.push({
                line: t.lineStart + line,
                byteOffset: t.byteOffset(i),
                raw: text,
                lines: 1,
                reason: `invalid JSON: ${message}. Each line must hold exactly one JSON value; fix or remove the line`,
              });
            }
          }
        }
      }
      i = nl + 1;
    }
    lines.n = line;
    return n;
  }

  protected override tooLongReason(): string {
    return `record is longer than maxRecordBytes (${this.maxRecordBytes} bytes); it was skipped. Raise maxRecordBytes if lines this long are expected`;
  }
}

const NO_LINES: number[] = [];

/** Index of the LF ending the line that starts at `start`. */
function lineEnd(text: string, start: number): number {
  const e = text.indexOf("\n", start);
  return e === -1 ? text.length : e;
}
