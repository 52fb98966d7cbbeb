/**
 * @module The pieces of the JSON source that need no tokenizer: the path syntax, the shape of a
 * parse's output and the "no array there" signal. Kept apart from `json-array-parser.ts` so that
 * building a pipeline (option checks) does not load `@streamparser/json`; the parser loads when a
 * JSON source opens.
 */
/** A JSON path to an array: `$` or `$.a.b` (names of object members). */
export function parseJsonPath(path: string): string[] {
  if (path === "$") return [];
  if (!/^\$(\.[^.[\]]+)+$/.test(path))
    throw new Error(`"${path}" is not a supported path: use "$" or "$.name" / "$.a.b" (member names)`);
  return path.slice(2).split(".");
}

/** A problem that stops the parse; the elements before it were read. */
export interface JsonArrayError {
  readonly reason: string;
  /** Byte offset of the element being read when it happened (or of the bad byte). */
  readonly byteOffset: number;
  /** Index of that element in the array (unset when the error is outside the array's elements). */
  readonly index?: number;
  /** The input from `byteOffset` (up to 1 KiB). */
  readonly raw: string;
}

/** What one `push` or `finish` produced. */
export interface JsonArrayBatch {
  readonly records: unknown[];
  /** Byte offset where each record starts. */
  readonly starts: number[];
  /** Array index of the first record. */
  readonly firstIndex: number;
  /** A syntax error that ended the parse (what follows it is not read). */
  readonly error?: JsonArrayError;
  /** Where a resumed parse continues after these records (`undefined` before the first element). */
  readonly end?: { readonly byte: number; readonly index: number };
  /** Input bytes consumed so far, from the file's start. */
  readonly consumed: number;
}

/**
 * The document cannot be read at all: no array at the path. An internal signal, never thrown out
 * of a source: the JSON source and `sluice schema` turn it into a `SourceError` naming the file.
 */
export class JsonShapeProblem extends Error {}
