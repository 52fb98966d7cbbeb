/**
 * @module Durations and sizes as users write them: `"250ms"`, `"10m"`, `1500`,
 * `"64MiB"`, `"1.5GB"`. Invalid values throw a `ConfigError` naming the option.
 */
import { ConfigError } from "./errors.ts";

export type Duration = number | `${number}${"ms" | "s" | "m" | "h" | "d"}`;
export type Size = number | `${number}${"B" | "KB" | "KiB" | "MB" | "MiB" | "GB" | "GiB"}`;

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const sizeUnits: Record<string, number> = {
  b: 1,
  kb: 1e3,
  kib: 1024,
  mb: 1e6,
  mib: 1024 ** 2,
  gb: 1e9,
  gib: 1024 ** 3,
};

/** Milliseconds from a duration; `what` names the option in the error. */
export function toMillis(value: Duration | string, what = "duration"): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value);
    if (m) return Number(m[1]) * durationUnits[m[2]];
  }
  throw new ConfigError(`${what}: "${String(value)}" is not a duration`, {
    hint: 'Use milliseconds (1500) or a number with a unit: "250ms", "10s", "5m", "1h", "1d".',
  });
}

/** Bytes from a size; `what` names the option in the error. */
export function toBytes(value: Size | string, what = "size"): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$/.exec(value);
    const unit = m ? sizeUnits[m[2].toLowerCase()] : undefined;
    if (m && unit) return Math.round(Number(m[1]) * unit);
  }
  throw new ConfigError(`${what}: "${String(value)}" is not a size`, {
    hint: 'Use bytes (65536) or a number with a unit: "64KiB", "16MiB", "1GB".',
  });
}
