/**
 * @module `LineParser`: the byte side of a parser whose records end at an LF (CSV, NDJSON). It
 * turns read buffers into decoded pieces (`utf8.ts`) for a subclass's hot loop, carries what is
 * incomplete, skips oversized records, and reports records so long they are probably a mistake.
 */
import { RAW_MAX_BYTES } from "../../pipeline/internal/raw.ts";
import { type ParseBatch, type RecordPosition, TextBatch } from "./batch.ts";
import { TEXT_ENCODINGS, type TextEncodingName } from "./encoding.ts";
import { concatBytes, countLfBytes, DecodedText, decodePrefix, HighByteScanner, pieceEnd } from "./utf8.ts";

const LF = 0x0a;

const MODE_NORMAL = 0;
/** The carry holds the start of a record that goes on past the decoded text (CSV quoted newlines). */
const MODE_SPANNING = 1;
/** A record longer than `maxRecordBytes` is being skipped until it ends. */
const MODE_SKIPPING = 2;
const BOM = [0xef, 0xbb, 0xbf];
/** Input is decoded and parsed in pieces of about this size (see `pieceEnd`). */
const PIECE_BYTES = 32 * 1024;
/** Bytes of an oversized record kept for its row error: what a dead letter keeps of any record. */
export const MAX_RAW_BYTES = RAW_MAX_BYTES;

/** Options every line-aligned parser takes. */
export interface LineParserOptions {
  /** A longer record (bytes before its LF) is skipped and reported; default 64 MiB. */
  readonly maxRecordBytes?: number;
  /** File offset of the first byte pushed (a previous batch's `endOffset` when resuming); default 0. */
  readonly startOffset?: number;
  /** Line number at `startOffset` (the previous batch's `endLine`); default 1. */
  readonly startLine?: number;
  /** How bytes become text; default `utf-8` (records with invalid bytes are row errors). */
  readonly encoding?: TextEncodingName;
  /** A record covering more input lines than this gets a warning; default: never. */
  readonly warnLines?: number;
  /** A record of more bytes than this gets a warning; default: never. */
  readonly warnBytes?: number;
}

/**
 * The byte side of a parser whose records end at an LF (the CSV and NDJSON parsers): UTF-8 BOM,
 * carrying incomplete input, decoding in pieces, skipping oversized records, batch bookkeeping. A
 * subclass supplies the hot loop (`parseText`) and a byte scanner that finds where a record ends.
 */
export abstract class LineParser<R> {
  protected readonly maxRecordBytes: number;
  protected readonly encoding: TextEncodingName;
  protected readonly warnLines: number;
  protected readonly warnBytes: number;
  private offset: number;
  private line: number;
  private bomChecked: boolean;
  private done = false;
  private mode = MODE_NORMAL;
  private carry: Uint8Array[] = [];
  private carryLen = 0;
  private skip = { line: 0, offset: 0, raw: "", bytes: 0, lfs: 0, lastLf: false };
  private readonly scanner = new HighByteScanner();

  constructor(
    options: LineParserOptions,
    private readonly recordEnd: (text: string, start: number) => number,
  ) {
    const max = options.maxRecordBytes ?? 64 * 1024 * 1024;
    if (!(Number.isInteger(max) && max > 0))
      throw new RangeError("maxRecordBytes must be a positive integer");
    this.maxRecordBytes = max;
    this.encoding = options.encoding ?? "utf-8";
    this.warnLines = options.warnLines ?? Number.POSITIVE_INFINITY;
    this.warnBytes = options.warnBytes ?? Number.POSITIVE_INFINITY;
    if (!(this.warnLines >= 1 && this.warnBytes >= 1))
      throw new RangeError("warnLines and warnBytes must be at least 1");
    if (!TEXT_ENCODINGS.includes(this.encoding))
      throw new RangeError(`encoding must be one of ${TEXT_ENCODINGS.join(", ")}`);
    this.offset = options.startOffset ?? 0;
    this.line = options.startLine ?? 1;
    if (!(Number.isInteger(this.offset) && this.offset >= 0))
      throw new RangeError("startOffset must be an integer >= 0");
    if (!(Number.isInteger(this.line) && this.line >= 1))
      throw new RangeError("startLine must be an integer >= 1");
    this.bomChecked = this.offset !== 0 || this.encoding === "latin1";
  }

  /**
   * Parses the records of `t.text` (which ends in an LF) into `batch`. Returns the text length, or
   * the index where a record starts that goes on past the text (having set the scanner state to
   * match the end of the text); `lines` is set to the LFs before the returned index.
   */
  protected abstract parseText(t: DecodedText, batch: TextBatch<R>, lines: { n: number }): number;
  /** Advances the record-end scanner over `bytes[from, to)`; returns the index of the LF ending the record, or -1. */
  protected abstract scanBytes(bytes: Uint8Array, from: number, to: number): number;
  /** Puts the scanner at the start of a record. */
  protected abstract resetScan(): void;
  /** Why a record still open at the end of input is an error. */
  protected abstract unfinishedReason(line: number): string;

  /** File offset and line where the next unread record starts: where to resume after the last batch. */
  get position(): RecordPosition {
    return { byteOffset: this.offset, line: this.line };
  }

  /**
   * Warns about a record spanning more than `warnLines` lines or `warnBytes`
   * bytes; `open`: it never ended (a quote left open to the end of input).
   */
  protected warnSpan(
    batch: TextBatch<R>,
    line: number,
    byteOffset: number,
    lines: number,
    bytes: number,
    open = false,
  ): void {
    if (lines > this.warnLines || bytes > this.warnBytes) {
      // One line and ended: the record is simply long.
      const message =
        lines > 1
          ? this.spanMessage(line, lines, bytes)
          : open
            ? `the record at line ${line} runs ${bytes} bytes to the end of the input: ${this.unfinishedReason(line)}`
            : `the record at line ${line} is ${bytes} bytes long (one line). Set warnRecordBytes if records this long are expected`;
      batch.warnings.push({ line, byteOffset, lines, bytes, message });
    }
  }

  protected spanMessage(line: number, lines: number, bytes: number): string {
    return `the record starting at line ${line} covers ${lines} lines and ${bytes} bytes`;
  }

  protected tooLongReason(): string {
    return `record is longer than maxRecordBytes (${this.maxRecordBytes} bytes); it was skipped. Raise maxRecordBytes if records this long are expected`;
  }

  /**
   * Parses every record that `bytes` completes. `bytes` may be reused by the caller afterwards.
   *
   * Push about 64 KiB at a time (slices of a larger read are fine): the records of one push are all
   * alive until it returns, and under V8's default young generation a 1 MiB push (~10K records) gets
   * them copied by the scavenger; that made a 1M-row read 2-3x slower in `benchmarks/csv-parse.bench.ts`.
   */
  push(bytes: Uint8Array): ParseBatch<R> {
    if (this.done) throw new Error("push() called after finish()");
    const batch = this.newBatch();
    let p = 0;
    if (!this.bomChecked) {
      p = this.takeBom(bytes);
      if (p < 0) return batch;
      batch.endOffset = this.offset;
    }
    const n = bytes.length;
    const end = bytes.lastIndexOf(LF) + 1; // input up to `end` is complete lines
    while (p < end) {
      if (this.mode === MODE_SKIPPING) {
        p = this.skipBytes(bytes, p, end, batch);
        if (p < 0) p = end;
      } else if (this.carryLen > 0) {
        // Join the carried record with as little input as can end it.
        const e = this.mode === MODE_SPANNING ? this.scanBytes(bytes, p, end) : bytes.indexOf(LF, p);
        if (e === -1) {
          this.appendCarry(bytes, p, end, batch);
          p = end;
        } else {
          const data = concatBytes([...this.carry, bytes.subarray(p, e + 1)], this.carryLen + e + 1 - p);
          this.carry = [];
          this.carryLen = 0;
          this.parseBytes(data, true, batch, false);
          p = e + 1;
        }
      } else {
        const e = pieceEnd(bytes, p, end, PIECE_BYTES, this.scanner);
        this.parseBytes(bytes.subarray(p, e), false, batch, false, this.scanner.ascii);
        p = e;
      }
    }
    if (p < n) {
      if (this.mode === MODE_SKIPPING) this.skipBytes(bytes, p, n, batch);
      else {
        if (this.mode === MODE_SPANNING) this.scanBytes(bytes, p, n);
        this.appendCarry(bytes, p, n, batch);
      }
    }
    return batch;
  }

  /** Ends the input: parses the last record (no final newline needed) and reports what is unfinished. */
  finish(): ParseBatch<R> {
    if (this.done) throw new Error("finish() called twice");
    this.done = true;
    this.scanner.release();
    const batch = this.newBatch();
    if (this.mode === MODE_SKIPPING) {
      this.endSkip(batch, true);
      return batch;
    }
    if (this.carryLen === 0) return batch;
    const data = new Uint8Array(this.carryLen + 1);
    let at = 0;
    for (const part of this.carry) {
      data.set(part, at);
      at += part.length;
    }
    data[at] = LF; // a virtual terminator, so the scanner sees every record end in an LF
    this.carry = [];
    this.carryLen = 0;
    this.parseBytes(data, true, batch, true);
    return batch;
  }

  private newBatch(): TextBatch<R> {
    return new TextBatch<R>(this.offset, this.line, this.recordEnd);
  }

  /** Strips a UTF-8 BOM at file start; returns where data starts in `bytes`, or -1 to wait for more. */
  private takeBom(bytes: Uint8Array): number {
    const have = this.carryLen; // only a BOM prefix is ever carried before the check
    let i = 0;
    for (; have + i < 3 && i < bytes.length; i++) {
      if (bytes[i] !== BOM[have + i]) {
        this.bomChecked = true;
        return 0;
      }
    }
    if (have + i < 3) {
      this.carry.push(bytes.slice());
      this.carryLen += bytes.length;
      return -1;
    }
    this.bomChecked = true;
    this.carry = [];
    this.carryLen = 0;
    this.offset += 3;
    return i;
  }

  private appendCarry(bytes: Uint8Array, from: number, to: number, batch: TextBatch<R>): void {
    if (from >= to) return;
    this.carry.push(bytes.slice(from, to));
    this.carryLen += to - from;
    if (this.carryLen > this.maxRecordBytes) this.startSkipping(batch);
  }

  /** The carried record is too long: remember what to report, drop its bytes, skip to its end. */
  private startSkipping(batch: TextBatch<R>): void {
    const data = concatBytes(this.carry, this.carryLen);
    if (this.mode === MODE_NORMAL) {
      this.resetScan(); // a NORMAL carry holds no LF, so this scan cannot end the record
      this.scanBytes(data, 0, data.length);
    }
    this.skip = {
      line: this.line,
      offset: this.offset,
      raw: decodePrefix(data, Math.min(MAX_RAW_BYTES, this.maxRecordBytes), this.encoding),
      bytes: data.length,
      lfs: countLfBytes(data),
      lastLf: data[data.length - 1] === LF,
    };
    this.carry = [];
    this.carryLen = 0;
    this.mode = MODE_SKIPPING;
    batch.endOffset = this.offset;
  }

  /** Skips the oversized record in `bytes[from, to)`; returns where the rest starts, or -1 if it goes on. */
  private skipBytes(bytes: Uint8Array, from: number, to: number, batch: TextBatch<R>): number {
    const e = this.scanBytes(bytes, from, to);
    const stop = e === -1 ? to : e + 1;
    this.skip.bytes += stop - from;
    this.skip.lfs += countLfBytes(bytes, from, stop);
    if (stop > from) this.skip.lastLf = bytes[stop - 1] === LF;
    if (e === -1) return -1;
    this.endSkip(batch, false);
    return stop;
  }

  /** The oversized record has ended (at an LF, or at the end of input): report it. */
  private endSkip(batch: TextBatch<R>, eof: boolean): void {
    const sk = this.skip;
    // Lines covered: those its bytes start (at the end of input, the last may lack an LF).
    const lines = eof && !sk.lastLf ? sk.lfs + 1 : sk.lfs;
    const bytes = eof ? sk.bytes : sk.bytes - 1;
    this.warnSpan(batch, sk.line, sk.offset, lines, bytes);
    batch.errors.push({
      line: sk.line,
      byteOffset: sk.offset,
      raw: sk.raw,
      reason: this.tooLongReason(),
      lines,
      rawBytes: bytes,
    });
    this.offset = sk.offset + sk.bytes;
    this.line = sk.line + sk.lfs;
    this.mode = MODE_NORMAL;
    this.resetScan();
    sk.raw = "";
    batch.endOffset = this.offset;
    batch.endLine = this.line;
  }

  /** Decodes LF-terminated `data`, parses it, and carries an unfinished last record. */
  private parseBytes(
    data: Uint8Array,
    owned: boolean,
    batch: TextBatch<R>,
    eof: boolean,
    ascii = false,
  ): void {
    const t = DecodedText.decode(data, this.offset, this.line, owned, this.encoding, ascii);
    batch.addText(t);
    this.mode = MODE_NORMAL;
    const lines = { n: 0 };
    const stop = this.parseText(t, batch, lines);
    const text = t.text;
    const virtualLf = eof ? 1 : 0;
    if (stop === text.length) {
      this.offset += data.length - virtualLf;
      this.line += lines.n - virtualLf;
    } else if (eof) {
      // An unclosed quote: the record runs to the end of input. Keep only the start of its text.
      const line = this.line + lines.n;
      const byteOffset = t.byteOffset(stop);
      const from = t.bytesBefore(stop);
      const bytes = data.length - 1 - from;
      const lfs = countLfBytes(data, from, data.length - 1);
      const spanned = data.length > from + 1 && data[data.length - 2] === LF ? lfs : lfs + 1;
      this.warnSpan(batch, line, byteOffset, spanned, bytes, true);
      batch.errors.push({
        line,
        byteOffset,
        raw: t.prefix(stop, text.length - 1, MAX_RAW_BYTES),
        reason: this.unfinishedReason(line),
        lines: spanned,
        ...(bytes > MAX_RAW_BYTES ? { rawBytes: bytes } : {}),
      });
      this.offset += data.length - 1;
      this.line = line + lfs;
      this.resetScan();
    } else {
      const consumed = t.bytesBefore(stop);
      this.carry = [owned ? data.subarray(consumed) : data.slice(consumed)];
      this.carryLen = data.length - consumed;
      this.offset += consumed;
      this.line += lines.n;
      this.mode = MODE_SPANNING;
      if (this.carryLen > this.maxRecordBytes) this.startSkipping(batch);
    }
    batch.endOffset = this.offset;
    batch.endLine = this.line;
  }
}
