/**
 * @module What a parse produces: the batch of records, row errors and warnings of one `push` or
 * `finish`, with positions and raw text computed only when asked for.
 */
import type { DecodedText } from "./utf8.ts";

/** Where a record starts in the input. */
export interface RecordPosition {
  /** 1-based physical line number. */
  readonly line: number;
  /** Byte offset in the file (a UTF-8 byte order mark counts: the first record after one is at 3). */
  readonly byteOffset: number;
}

/** A record the parser could not read; the parse goes on after it. */
export interface RowError extends RecordPosition {
  /** The record's text without its line terminator (only its start when `rawBytes` is set). */
  readonly raw: string;
  /** What is wrong and what to do about it. */
  readonly reason: string;
  /** Input lines the record covers (more than 1 when quoted fields hold line breaks). */
  readonly lines: number;
  /** The whole record's size in bytes, set when `raw` holds only its first `MAX_RAW_BYTES`. */
  readonly rawBytes?: number;
}

/** A record (read or not) so long that it probably is a quoting mistake. */
export interface RowWarning extends RecordPosition {
  /** Input lines the record covers. */
  readonly lines: number;
  /** Its size in bytes. */
  readonly bytes: number;
  readonly message: string;
}

/** What one `push` or `finish` call produced. Batches tile the input: each starts where the last ended. */
export interface ParseBatch<R> {
  /** The records read, in input order. */
  readonly records: R[];
  /** The records that could not be read, in input order. */
  readonly errors: RowError[];
  /** Records that span more lines or bytes than the parser's warning limits, in input order. */
  readonly warnings: RowWarning[];
  /** File offset where this batch's input starts (the previous batch's `endOffset`). */
  readonly startOffset: number;
  /** File offset just after the last record consumed: a parser started here continues exactly. */
  readonly endOffset: number;
  /** Line number at `startOffset`. */
  readonly startLine: number;
  /** Line number at `endOffset` (give it as `startLine` when resuming there). */
  readonly endLine: number;
  /** `endOffset - startOffset`. */
  readonly bytes: number;
  /** Line and byte offset where record `i` starts (computed on demand). */
  position(i: number): RecordPosition;
  /** The text of record `i` without its line terminator (computed on demand). */
  raw(i: number): string;
}

/** The batch implementation shared by the parsers; `recordEnd` finds where a record's text ends. */
export class TextBatch<R> implements ParseBatch<R> {
  readonly records: R[] = [];
  readonly errors: RowError[] = [];
  readonly warnings: RowWarning[] = [];
  /** Character index, in the text it came from, where each record starts. */
  readonly starts: number[] = [];
  endOffset: number;
  endLine: number;
  /** The decoded pieces the records came from, and the index of the first record of each. */
  private readonly texts: DecodedText[] = [];
  private readonly firstRecord: number[] = [];

  constructor(
    readonly startOffset: number,
    readonly startLine: number,
    private readonly recordEnd: (text: string, start: number) => number,
  ) {
    this.endOffset = startOffset;
    this.endLine = startLine;
  }

  get bytes(): number {
    return this.endOffset - this.startOffset;
  }

  /** Records pushed from now on come from `text`. */
  addText(text: DecodedText): void {
    this.texts.push(text);
    this.firstRecord.push(this.records.length);
  }

  private textOf(i: number): DecodedText {
    if (!(i >= 0 && i < this.records.length)) {
      throw new RangeError(`no record ${i} in a batch of ${this.records.length}`);
    }
    // The last text whose first record is at or before `i`.
    let lo = 0;
    let hi = this.texts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.firstRecord[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return this.texts[lo];
  }

  position(i: number): RecordPosition {
    const t = this.textOf(i);
    const start = this.starts[i];
    return { line: t.lineAt(start), byteOffset: t.byteOffset(start) };
  }

  raw(i: number): string {
    const text = this.textOf(i).text;
    const start = this.starts[i];
    let end = this.recordEnd(text, start);
    if (end > start && text.charCodeAt(end - 1) === 0x0d) end--;
    return text.slice(start, end);
  }
}
