/**
 * @module In-memory columnar buffers for events on their way to DuckDB. The
 * bus subscriber appends one event as a few typed-array writes (no per-event
 * allocation beyond what the event already is); a flush turns the buffer into
 * the column batches `registerBatchSource` streams into `INSERT … SELECT`.
 *
 * Column kinds:
 * - `num`: numbers in a growable Float64Array (NaN = NULL), cast in SQL;
 * - `ts`: epoch ms, stored as TIMESTAMP;
 * - `sym`: low-cardinality strings (run id, pipeline, stage), dictionary-
 *   encoded per batch and decoded in SQL from a bound list, which costs one
 *   native call per batch instead of one per row;
 * - `str`: free text, capped in length;
 * - `json`: any value, serialised at flush time (off the publish path);
 * - `hist`: a sparse latency histogram, its pairs copied into flat arrays as
 *   it arrives and written as two list columns.
 *
 * A buffer is reused after its flush (`reset`), so steady-state ingest does
 * not reallocate its typed arrays.
 */
import type { AppendBatch, AppendColumnData, BatchColumnData, BatchColumnSpec } from "../../duckdb/client.ts";

export type ColumnKind = "num" | "ts" | "sym" | "str" | "json" | "hist";

export interface ColumnSpec {
  readonly name: string;
  readonly kind: ColumnKind;
  /** Stored SQL type for `num` (BIGINT, DOUBLE, INTEGER, BOOLEAN) and `json` (JSON, VARCHAR[]). */
  readonly sql?: string;
  /** Longest stored text for `str`/`json`; longer values are cut and marked. */
  readonly max?: number;
}

export const TEXT_CAP = 8192;

export interface HistogramLike {
  readonly buckets: ReadonlyArray<readonly [number, number]>;
}

/**
 * Column values of one table, buffered until the next flush. Rows arrive as
 * value arrays in column order (one monomorphic loop per row, rather than a
 * getter closure per column).
 */
export class ColumnBuffer {
  rows = 0;
  /**
   * Per column: its numbers (num/ts columns; a Float64Array of `#cap` rows,
   * grown for all columns at once) or its values (the others).
   */
  #num: Float64Array[];
  #ref: unknown[][];
  #cap = 256;
  readonly #isNum: boolean[];
  /** Per `hist` column: its histograms' pairs, copied as they arrive (see `HistBuffer`). */
  readonly #hist: Array<HistBuffer | undefined>;

  /** Whether the columns start with two non-numeric and two numeric ones (see `push4`). */
  readonly #common: boolean;

  constructor(readonly specs: readonly ColumnSpec[]) {
    this.#isNum = specs.map((s) => s.kind === "num" || s.kind === "ts");
    this.#common =
      specs.length >= 4 && !this.#isNum[0] && !this.#isNum[1] && this.#isNum[2] && this.#isNum[3];
    this.#num = this.#isNum.map((n) => new Float64Array(n ? this.#cap : 0));
    this.#ref = specs.map(() => []);
    this.#hist = specs.map((s) => (s.kind === "hist" ? new HistBuffer() : undefined));
  }

  /** Doubles the room of every numeric column (one check per row instead of one per value). */
  #grow(): void {
    this.#cap *= 2;
    this.#num = this.#num.map((a, c) => {
      if (!this.#isNum[c]) return a;
      const b = new Float64Array(this.#cap);
      b.set(a);
      return b;
    });
  }

  /** Appends one row: values in column order. */
  push(values: ArrayLike<unknown>): void {
    if (this.rows === this.#cap) this.#grow();
    for (let c = 0; c < values.length; c++) this.#put(c, values[c]);
    this.rows++;
  }

  /**
   * Appends one row given as its first four values and the rest (what raw
   * tables use: run id, pipeline, seq and ts first, written without checking
   * their kinds when the buffer's columns start that way).
   */
  push4(a: unknown, b: unknown, c: number, d: number, rest: ArrayLike<unknown>): void {
    if (this.rows === this.#cap) this.#grow();
    if (this.#common) {
      const i = this.rows;
      this.#ref[0].push(a);
      this.#ref[1].push(b);
      this.#num[2][i] = c;
      this.#num[3][i] = d;
    } else {
      this.#put(0, a);
      this.#put(1, b);
      this.#put(2, c);
      this.#put(3, d);
    }
    for (let k = 0; k < rest.length; k++) this.#put(k + 4, rest[k]);
    this.rows++;
  }

  #put(c: number, v: unknown): void {
    if (this.#isNum[c]) {
      this.#num[c][this.rows] = typeof v === "number" ? v : typeof v === "boolean" ? (v ? 1 : 0) : Number.NaN;
    } else {
      const h = this.#hist[c];
      if (h) h.push(this.rows, v as HistogramLike | undefined);
      else this.#ref[c].push(v);
    }
  }

  /** Empties the buffer for reuse (after its batch was written). */
  reset(): void {
    this.#ref = this.specs.map(() => []);
    for (const h of this.#hist) h?.reset();
    this.rows = 0;
  }

  /**
   * The buffered rows as column batches. `sym` columns become 1-based codes
   * into `symbols`, which the INSERT binds as `$syms`.
   */
  toBatch(symbols: Map<string, number>): { rows: number; columns: BatchColumnData[] } {
    const columns: BatchColumnData[] = [];
    for (let c = 0; c < this.specs.length; c++) {
      const spec = this.specs[c];
      const data = this.#ref[c];
      switch (spec.kind) {
        case "num":
        case "ts": {
          columns.push({ type: "double", values: this.#num[c].subarray(0, this.rows) });
          break;
        }
        case "hist":
          columns.push(...(this.#hist[c] as HistBuffer).columns(this.rows));
          break;
        case "sym": {
          const codes = new Int32Array(this.rows);
          // Runs of one value are the rule (one run, one pipeline): the last is checked first.
          let last: unknown;
          let lastCode = 0;
          for (let i = 0; i < this.rows; i++) {
            const v = data[i];
            if (v === last && lastCode !== 0) {
              codes[i] = lastCode;
              continue;
            }
            // Code 0 reads back as NULL (`$syms[0]`; lists are 1-based).
            if (v === undefined || v === null) continue;
            lastCode = codes[i] = symbolCode(symbols, String(v));
            last = v;
          }
          columns.push({ type: "integer", values: codes });
          break;
        }
        case "str":
          columns.push({ type: "varchar", values: data.map((v) => capText(v, spec.max)) });
          break;
        case "json":
          columns.push({ type: "varchar", values: data.map((v) => toJsonText(v, spec.max)) });
          break;
      }
    }
    return { rows: this.rows, columns };
  }

  /**
   * The buffered rows as `Connection.appender` columns, in stored-column
   * order (`storedColumns`): numbers as they are (the appender converts them
   * to the column's type), `sym` columns dictionary-coded, JSON serialised.
   */
  toColumns(): AppendBatch {
    const codes = new Map<string, number>();
    const batch = this.toBatch(codes);
    const symbols = [...codes.keys()];
    const columns: AppendColumnData[] = [];
    // `toBatch` columns, in order (a `hist` spec has two): sym codes become
    // symbol columns, and VARCHAR[] JSON becomes a list of strings.
    let k = 0;
    for (let c = 0; c < this.specs.length; c++) {
      const spec = this.specs[c];
      const col = batch.columns[k++];
      if (spec.kind === "hist") columns.push(col, batch.columns[k++]);
      else if (spec.kind === "sym" && col.type === "integer") {
        columns.push({ type: "symbols", codes: col.values, symbols });
      } else if (spec.kind === "json" && spec.sql === "VARCHAR[]") {
        const data = this.#ref[c];
        const offsets = new Uint32Array(this.rows + 1);
        const values: string[] = [];
        for (let i = 0; i < this.rows; i++) {
          const v = data[i];
          if (Array.isArray(v)) for (const x of v) values.push(capText(x, spec.max) ?? "");
          offsets[i + 1] = values.length;
        }
        columns.push({ type: "varchar_list", offsets, values });
      } else columns.push(col);
    }
    return { rows: this.rows, columns };
  }
}

/**
 * A `hist` column's rows: each histogram's (bucket, count) pairs copied into flat arrays as the
 * row arrives, so that the event it came from is not kept until the flush.
 */
class HistBuffer {
  /** Row r's pairs are [offsets[r], offsets[r + 1]). */
  #offsets = new Uint32Array(257);
  #idx = new Uint16Array(4096);
  #cnt = new Float64Array(4096);
  #n = 0;

  push(row: number, h: HistogramLike | undefined): void {
    if (row + 2 > this.#offsets.length) {
      const o = new Uint32Array(this.#offsets.length * 2);
      o.set(this.#offsets);
      this.#offsets = o;
    }
    const b = h?.buckets;
    if (b && b.length > 0) {
      if (this.#n + b.length > this.#idx.length) {
        const size = Math.max(this.#idx.length * 2, this.#n + b.length);
        const idx = new Uint16Array(size);
        idx.set(this.#idx);
        const cnt = new Float64Array(size);
        cnt.set(this.#cnt);
        this.#idx = idx;
        this.#cnt = cnt;
      }
      for (let j = 0; j < b.length; j++) {
        this.#idx[this.#n] = b[j][0];
        this.#cnt[this.#n++] = b[j][1];
      }
    }
    this.#offsets[row + 1] = this.#n;
  }

  /** The column as two flat list columns sharing one offsets array, items back to back. */
  columns(
    rows: number,
  ): [BatchColumnData & { type: "usmallint_list" }, BatchColumnData & { type: "ubigint_list" }] {
    const offsets = this.#offsets.slice(0, rows + 1);
    return [
      { type: "usmallint_list", offsets, values: this.#idx.slice(0, this.#n) },
      { type: "ubigint_list", offsets, values: this.#cnt.slice(0, this.#n) },
    ];
  }

  /** Empties it for reuse; arrays grown past a few thousand rows' worth (a catch-up's batch) go. */
  reset(): void {
    this.#n = 0;
    if (this.#idx.length > 1 << 16) {
      this.#idx = new Uint16Array(4096);
      this.#cnt = new Float64Array(4096);
    }
    if (this.#offsets.length > 1 << 14) this.#offsets = new Uint32Array(257);
  }
}

/** The 1-based code of `s` in a batch's symbol list, adding it if new. */
export function symbolCode(symbols: Map<string, number>, s: string): number {
  let code = symbols.get(s);
  if (code === undefined) {
    code = symbols.size + 1;
    symbols.set(s, code);
  }
  return code;
}

/** The batch-source columns a spec list produces (a `hist` column produces two). */
export function batchColumns(specs: readonly ColumnSpec[]): BatchColumnSpec[] {
  const out: BatchColumnSpec[] = [];
  for (const s of specs) {
    switch (s.kind) {
      case "num":
      case "ts":
        out.push({ name: s.name, type: "double" });
        break;
      case "sym":
        out.push({ name: s.name, type: "integer" });
        break;
      case "hist":
        out.push(
          { name: `${s.name}_idx`, type: "usmallint_list" },
          { name: `${s.name}_n`, type: "ubigint_list" },
        );
        break;
      default:
        out.push({ name: s.name, type: "varchar" });
    }
  }
  return out;
}

/** Stored column names and SQL types, in order (for CREATE TABLE). */
export function storedColumns(specs: readonly ColumnSpec[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const s of specs) {
    switch (s.kind) {
      case "num":
        out.push([s.name, s.sql ?? "DOUBLE"]);
        break;
      case "ts":
        out.push([s.name, "TIMESTAMP"]);
        break;
      case "sym":
      case "str":
        out.push([s.name, "VARCHAR"]);
        break;
      case "json":
        out.push([s.name, s.sql ?? "JSON"]);
        break;
      case "hist":
        out.push([`${s.name}_idx`, "USMALLINT[]"], [`${s.name}_n`, "UBIGINT[]"]);
        break;
    }
  }
  return out;
}

/** The cut `pipeline/internal/raw.ts` made of a long `raw` before it was journaled: its size is kept when cut again. */
const JOURNAL_CUT = /…\[(\d+) bytes cut\]$/;

function capText(v: unknown, max = TEXT_CAP): string | null {
  if (v === undefined || v === null) return null;
  const s = typeof v === "string" ? v : String(v);
  if (s.length <= max) return s;
  const earlier = JOURNAL_CUT.exec(s);
  const text = earlier ? s.slice(0, earlier.index) : s;
  // What the journal cut to fits: kept as it is, with its marker (a little over `max`).
  if (text.length <= max) return s;
  // Not half of a surrogate pair.
  const end = (text.charCodeAt(max - 1) & 0xfc00) === 0xd800 ? max - 1 : max;
  return `${text.slice(0, end)}…[${text.length - end} more chars${earlier ? `, then ${earlier[1]} bytes cut` : ""}]`;
}

function toJsonText(v: unknown, max = TEXT_CAP * 4): string | null {
  if (v === undefined) return null;
  let s: string;
  try {
    // Without a replacer first: one made JSON.stringify several times slower,
    // and a record holds a BigInt only rarely (then it throws and is redone).
    s = JSON.stringify(v) ?? "null";
  } catch {
    try {
      s = JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)) ?? "null";
    } catch (e) {
      s = JSON.stringify({ $unserialisable: e instanceof Error ? e.message : String(e) });
    }
  }
  // A cut JSON document would not parse; keep it valid by storing it as a string.
  return s.length > max ? JSON.stringify(`${s.slice(0, max)}…[${s.length - max} more chars]`) : s;
}
