/** @module Shapes shared by the CSV benchmark and its peer readers (kept apart so each child imports one reader). */
export interface BenchRow {
  readonly note: string;
  readonly email: string;
}

export interface ReadResult {
  readonly rows: number;
  /** Sum of the lengths of two columns: equal results mean the readers agree on the values. */
  readonly checksum: number;
}
