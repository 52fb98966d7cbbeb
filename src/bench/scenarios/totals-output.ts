/**
 * @module Reading back the category totals a sluice pipeline wrote as NDJSON,
 * as an outcome (shared by the orders scenarios).
 */
import type { RunSummary } from "../../pipeline/run.ts";
import { fs, paths } from "../../runtime/fs.ts";
import type { BenchContext, Outcome } from "../scenario.ts";
import { type CategoryTotal, totalsDigest } from "./orders.ts";

export const TOTALS_FILE = "totals.ndjson";

export async function totalsOutcome(summary: RunSummary, ctx: BenchContext): Promise<Outcome> {
  const text = await fs.readText(paths.join(ctx.outDir, TOTALS_FILE));
  const rows = text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CategoryTotal);
  return {
    rowsIn: summary.rowsIn,
    rowsOut: rows.length,
    deadLettered: summary.deadLettered,
    digest: totalsDigest(rows),
  };
}
