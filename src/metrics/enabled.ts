/**
 * @module Whether runs record metrics: its own module so a caller can ask
 * without loading the store (and DuckDB with it).
 */
import { env } from "../runtime/process.ts";

/** False when `SLUICE_METRICS` is `off`, `0`, `false` or `no` (the engine then runs without a store). */
export function metricsEnabled(): boolean {
  const v = env("SLUICE_METRICS")?.trim().toLowerCase();
  return !(v === "off" || v === "0" || v === "false" || v === "no");
}
