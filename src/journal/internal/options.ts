/**
 * @module Checks `openJournal` options and turns sizes ("64MiB") and
 * durations ("250ms") into numbers, so the rest of the layer sees one shape.
 */
import { systemClock } from "../../runtime/clock.ts";
import { type DurableFs, nodeDurableFs } from "../../runtime/durable-fs.ts";
import { JournalOptionsError } from "../errors.ts";
import { SEGMENT_HEADER_SIZE } from "./format.ts";
import type { FsyncPolicy, JournalClock, WriterConfig } from "./writer.ts";

/** Bytes, or a string such as `"64MiB"`, `"512KiB"`, `"1GB"`. */
export type Size = number | string;
/** Milliseconds, or a string such as `"250ms"`, `"1s"`, `"5m"`. */
export type Duration = number | string;

export interface JournalOptions {
  /**
   * When data reaches stable storage. `checkpoint` (default): on `sync()`,
   * which the engine calls at every checkpoint. `interval`: also every
   * `fsyncInterval`. `always`: after every append, with concurrent appends
   * sharing one fsync.
   */
  readonly fsync?: FsyncPolicy;
  /** Period of the `interval` policy; default `"1s"`. */
  readonly fsyncInterval?: Duration;
  /** Nominal segment size; a segment exceeds it by at most one record. Default `"64MiB"`. */
  readonly segmentSize?: Size;
  /** Appends are gathered into writes of this size. Default `"1MiB"`. */
  readonly writeBufferSize?: Size;
  /** File primitives; defaults to the `node:fs` implementation (Node, Bun, Deno). */
  readonly fs?: DurableFs;
  /**
   * Drives the `interval` policy (`every(ms, fn)`); defaults to the system
   * clock, whose ticks do not keep the process alive: call `close()`.
   */
  readonly clock?: JournalClock;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

function parseUnit(option: string, value: number | string, units: Readonly<Record<string, number>>): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
    const unit = m ? units[m[2].toLowerCase()] : undefined;
    if (m && unit !== undefined) return Math.round(Number(m[1]) * unit);
  }
  throw new JournalOptionsError(
    option,
    `${JSON.stringify(value)} is not a non-negative number or a string with one of the units ${Object.keys(
      units,
    )
      .filter(Boolean)
      .join(", ")}`,
  );
}

/** Validated options, ready for the writer. */
export function resolveOptions(dir: string, options: JournalOptions): WriterConfig {
  const policy = options.fsync ?? "checkpoint";
  if (policy !== "always" && policy !== "checkpoint" && policy !== "interval") {
    throw new JournalOptionsError(
      "fsync",
      `${JSON.stringify(policy)} is not one of "always", "checkpoint", "interval"`,
    );
  }
  const segmentSize = parseUnit("segmentSize", options.segmentSize ?? "64MiB", SIZE_UNITS);
  if (segmentSize < SEGMENT_HEADER_SIZE + 64) {
    throw new JournalOptionsError("segmentSize", `${segmentSize} bytes is too small; use at least 88 bytes`);
  }
  const batchSize = parseUnit("writeBufferSize", options.writeBufferSize ?? "1MiB", SIZE_UNITS);
  if (batchSize < 64 || batchSize > 2 ** 30) {
    throw new JournalOptionsError("writeBufferSize", `${batchSize} bytes is outside 64 B .. 1 GiB`);
  }
  const intervalMs = parseUnit("fsyncInterval", options.fsyncInterval ?? "1s", DURATION_UNITS);
  if (intervalMs < 1) throw new JournalOptionsError("fsyncInterval", "must be at least 1 ms");
  const fs: DurableFs = options.fs ?? nodeDurableFs;
  return { fs, dir, segmentSize, batchSize, policy, intervalMs, clock: options.clock ?? systemClock };
}
