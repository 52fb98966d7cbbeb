/**
 * @module An incremental parser for the elements of one JSON array inside a JSON document (the
 * whole document, `$`, or the array at a path such as `$.items`), fed with raw file bytes.
 *
 * Why this shape: `@streamparser/json` tokenizes UTF-8 bytes in pieces and gives each token's byte
 * offset, and its `TokenParser` assembles values with `keepStack: false`, so only the element being
 * read is held, never the document. On top of them this file follows the path itself (a stack of
 * containers and keys, one step per token), which the library does not report: it tells where each
 * element starts (byte offset and index), and tells a document whose path holds an object or a
 * number from one that holds an array, instead of silently emitting an object's members.
 *
 * Resume: after element `n - 1` (which starts at byte `b`) a run continues from `{ byte: b, index:
 * n }`: the tokenizer restarts at `b` behind a synthetic `[`, the first element (already read) is
 * dropped, and reading stops where the array closes (the rest of the document, already checked by
 * the first run up to there, is not read again).
 */
import { type ParsedTokenInfo, Tokenizer, TokenParser, TokenType } from "@streamparser/json";

import { type JsonArrayBatch, JsonShapeProblem } from "./json-path.ts";

interface Frame {
  readonly array: boolean;
  key: string | number | undefined;
  expectKey: boolean;
}

const VALUE_NAMES: Partial<Record<TokenType, string>> = {
  [TokenType.LEFT_BRACE]: "an object",
  [TokenType.STRING]: "a string",
  [TokenType.NUMBER]: "a number",
  [TokenType.TRUE]: "a boolean",
  [TokenType.FALSE]: "a boolean",
  [TokenType.NULL]: "null",
};

export interface JsonArrayParserOptions {
  /** Path segments to the array (`[]` for the root). */
  readonly path: readonly string[];
  /** The path as the user wrote it, for messages. */
  readonly pathText: string;
  /** Resume point from a previous batch's `end`. */
  readonly resume?: { readonly byte: number; readonly index: number };
}

export class JsonArrayParser {
  private readonly tokenizer = new Tokenizer();
  private readonly values: TokenParser;
  private readonly frames: Frame[] = [];
  private readonly target: readonly string[];
  /** Added to the tokenizer's offsets to give file offsets. */
  private readonly base: number;
  private targetDepth = -1;
  private closed = false;
  private failed = false;
  private skip = 0;
  private records: unknown[] = [];
  private starts: number[] = [];
  private firstIndex = -1;
  private elementStart = -1;
  private elementIndex = 0;
  private lastStart = -1;
  private lastIndex = -1;
  private consumed: number;
  private window: Uint8Array = new Uint8Array(0);
  private windowStart = 0;
  private readonly topKeys = new Set<string>();

  constructor(private readonly options: JsonArrayParserOptions) {
    const resume = options.resume;
    this.target = resume ? [] : options.path;
    this.base = resume ? resume.byte - 1 : 0;
    this.consumed = resume?.byte ?? 0;
    this.values = new TokenParser({ paths: [["$", ...this.target, "*"].join(".")], keepStack: false });
    this.values.onValue = ({ value }) => {
      const start = this.elementStart;
      this.elementStart = -1;
      if (this.skip > 0) {
        this.skip--;
        return;
      }
      if (this.firstIndex < 0) this.firstIndex = this.elementIndex;
      this.records.push(value);
      this.starts.push(start);
      this.lastStart = start;
      this.lastIndex = this.elementIndex;
    };
    this.tokenizer.onToken = (t) => this.token(t);
    if (resume) {
      this.skip = 1;
      this.tokenizer.write("[");
      // The synthetic bracket opened the array at index `resume.index - 1` (the element already read).
      this.frames[0].key = resume.index - 1;
    }
  }

  /** Nothing more to read: a resumed parse has reached the array's end, or the parse failed. */
  get done(): boolean {
    return this.failed || (this.closed && this.options.resume !== undefined);
  }

  push(bytes: Uint8Array): JsonArrayBatch {
    if (!this.failed && !(this.closed && this.options.resume)) {
      this.window = bytes;
      this.windowStart = this.consumed;
      try {
        this.tokenizer.write(bytes);
      } catch (e) {
        if (e instanceof JsonShapeProblem) throw e;
        return this.fail(e, this.consumed);
      }
    }
    this.consumed += bytes.length;
    return this.take();
  }

  finish(): JsonArrayBatch {
    if (!this.failed && !(this.closed && this.options.resume)) {
      try {
        this.tokenizer.end();
        if (!this.values.isEnded) this.values.end();
      } catch (e) {
        if (e instanceof JsonShapeProblem) throw e;
        return this.fail(e, this.consumed);
      }
      if (this.targetDepth < 0) {
        const keys = [...this.topKeys].slice(0, 10);
        throw new JsonShapeProblem(
          this.consumed === 0
            ? "the file is empty"
            : `no array at ${this.options.pathText}${keys.length ? ` (the top-level object's keys: ${keys.join(", ")})` : ""}`,
        );
      }
    }
    return this.take();
  }

  private take(): JsonArrayBatch {
    const batch: JsonArrayBatch = {
      records: this.records,
      starts: this.starts,
      firstIndex: this.firstIndex,
      end: this.lastIndex >= 0 ? { byte: this.lastStart, index: this.lastIndex + 1 } : undefined,
      consumed: this.consumed,
    };
    this.records = [];
    this.starts = [];
    this.firstIndex = -1;
    return batch;
  }

  private fail(e: unknown, at: number): JsonArrayBatch {
    this.failed = true;
    const inElement = this.elementStart >= 0 && this.targetDepth >= 0 && !this.closed;
    const message = (e instanceof Error ? e.message : String(e)).replace(/\.+$/, "");
    // The tokenizer names the bad byte by its position in the bytes it was given.
    const abs = /absolute position "(\d+)"/.exec(message);
    const bad = abs ? Number(abs[1]) + this.base : at;
    const byteOffset = inElement ? this.elementStart : bad;
    const from = Math.max(0, byteOffset - this.windowStart);
    const raw = new TextDecoder().decode(this.window.subarray(from, from + 1024));
    const where = abs ? ` at byte ${bad}` : "";
    const said = message.replace(/ at chunk position "\d+" \(absolute position "\d+"\)/, "");
    const batch = this.take();
    return {
      ...batch,
      error: {
        reason: `invalid JSON${where}${inElement ? ` in element ${this.elementIndex} (which starts at byte ${byteOffset})` : ""}: ${said}. The elements before it were read; the rest of the file was not`,
        byteOffset,
        index: inElement ? this.elementIndex : undefined,
        raw,
      },
    };
  }

  private token(t: ParsedTokenInfo): void {
    if (this.closed && this.options.resume) return;
    const frames = this.frames;
    const top = frames.length > 0 ? frames[frames.length - 1] : undefined;
    const token = t.token;
    if (token === TokenType.COMMA) {
      if (top?.array) (top.key as number)++;
      else if (top) top.expectKey = true;
    } else if (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET) {
      if (frames.length === this.targetDepth) {
        this.closed = true;
        this.elementStart = -1;
      }
      frames.pop();
    } else if (token === TokenType.STRING && top && !top.array && top.expectKey) {
      top.key = t.value as string;
      top.expectKey = false;
      if (frames.length === 1) this.topKeys.add(top.key);
    } else if (token !== TokenType.COLON) {
      this.valueStart(t);
    }
    this.values.write(t);
  }

  /** A value begins at this token: is it the target array, or one of its elements? */
  private valueStart(t: ParsedTokenInfo): void {
    const frames = this.frames;
    const depth = frames.length;
    if (depth === this.targetDepth && !this.closed) {
      this.elementStart = t.offset + this.base;
      this.elementIndex = frames[depth - 1].key as number;
    } else if (this.targetDepth < 0 && depth === this.target.length && this.atTarget()) {
      if (t.token !== TokenType.LEFT_BRACKET) {
        throw new JsonShapeProblem(
          `${this.options.pathText} holds ${VALUE_NAMES[t.token] ?? "a value"} (at byte ${t.offset + this.base}), not an array`,
        );
      }
      this.targetDepth = depth + 1;
    }
    if (t.token === TokenType.LEFT_BRACE) frames.push({ array: false, key: undefined, expectKey: true });
    else if (t.token === TokenType.LEFT_BRACKET) frames.push({ array: true, key: 0, expectKey: false });
  }

  private atTarget(): boolean {
    const frames = this.frames;
    for (let i = 0; i < frames.length; i++) {
      if (frames[i].array || frames[i].key !== this.target[i]) return false;
    }
    return true;
  }
}
