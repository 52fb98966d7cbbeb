/**
 * @module The CSV parser's small parts outside its hot loop (`csv-parser.ts`): the scanner states
 * shared by the byte-level and text-level record-end scanners, the text-level scanner itself
 * (`recordEndInText`, the twin of `CsvParser#scanBytes`), and the option check and reason text.
 */
export const LF = 0x0a;
export const CR = 0x0d;
// States of the record-end scanner (`scanBytes`, and `recordEndInText` used by `raw`).
export const FIELD_START = 0;
export const UNQUOTED = 1;
export const QUOTED = 2;
export const QUOTE_IN_QUOTED = 3;
// Why a record is malformed.
export const STRAY_QUOTE = 1;
export const AFTER_QUOTE = 2;

export function raggedReason(width: number, found: number, delimiter: string): string {
  return `expected ${width} fields (one per column) but found ${found}; quote fields that contain "${delimiter}" or fix the row`;
}

/**
 * A malformed quote (`STRAY_QUOTE`, or text after a closing quote) and how to write the field. The
 * quote is named in words, as in `unclosedQuoteReason`.
 */
export function quoteReason(q: string, bad: number): string {
  const name = quoteName(q);
  const fix = `quote the whole field and write each ${name} inside it twice`;
  return bad === STRAY_QUOTE
    ? `a ${name} appears inside a field that does not start with one; ${fix}`
    : `text follows the closing ${name} of a quoted field; ${fix}`;
}

function quoteName(q: string): string {
  return q === '"' ? "double quote" : q === "'" ? "single quote" : `quote character ${q}`;
}

export function tooLongReason(maxRecordBytes: number): string {
  return `record is longer than maxRecordBytes (${maxRecordBytes} bytes); it was skipped. Check the quoting (an unclosed quote swallows the rest of the file) or raise maxRecordBytes`;
}

export function spanMessage(q: string, line: number, lines: number, bytes: number): string {
  return `the record starting at line ${line} covers ${lines} lines (${bytes} bytes): a ${q} opened there may never be closed, so the lines after it were read as one field. Check the quoting near line ${line}; set warnRecordLines/warnRecordBytes if records this long are expected`;
}

/**
 * A quote left open to the end of input. The quote is named in words: two
 * bare quote characters in a reason read as quoted text to
 * `normaliseReason`, which would group this reason garbled.
 */
export function unclosedQuoteReason(q: string, line: number): string {
  const name = quoteName(q);
  return `a quoted field in the record starting at line ${line} is not closed before the end of the input; close it with a ${name} (one inside a quoted field is written twice)`;
}

export function asciiChar(value: string, what: string): string {
  const c = value.charCodeAt(0);
  if (value.length !== 1 || c >= 0x80 || c === LF || c === CR) {
    throw new TypeError(
      `CSV ${what} must be one ASCII character other than CR and LF, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Index of the LF ending the record that starts at `start` (the text twin of `scanBytes`). */
export function recordEndInText(s: string, start: number, D: number, Q: number): number {
  const quote = String.fromCharCode(Q);
  let st = FIELD_START;
  for (let i = start; i < s.length; i++) {
    if (st === QUOTED) {
      const q = s.indexOf(quote, i);
      if (q === -1) return s.length;
      st = QUOTE_IN_QUOTED;
      i = q;
      continue;
    }
    const c = s.charCodeAt(i);
    if (st === QUOTE_IN_QUOTED) {
      if (c === Q) {
        st = QUOTED;
        continue;
      }
      st = UNQUOTED;
    }
    if (c === LF) return i;
    if (c === D) st = FIELD_START;
    else if (st === FIELD_START) st = c === Q ? QUOTED : UNQUOTED;
  }
  return s.length;
}
