/**
 * @module Built-in scenario `memory-bound`: a CSV file larger than the memory
 * cap (at small and full scale), streamed and checksummed. Every
 * implementation's process runs with `--max-old-space-size` at the cap
 * (Node, Deno; Bun has no such limit) and its peak RSS is reported against
 * it. The peers are `benchmarks/csv-parse.bench.ts`'s readers, unchanged.
 */
import { tap } from "../../operators/tap.ts";
import { pipeline } from "../../pipeline/pipeline.ts";
import { csv } from "../../sources/csv.ts";
import { type Outcome, scenario } from "../scenario.ts";
import { discard } from "./discard.ts";
import { repoPeer } from "./repo-peer.ts";
import { checksumStep, wideCsv } from "./wide-csv.ts";

/** Heap cap (MiB). ~100 bytes a row: small (1.5M rows, ~150 MB) and full (4M rows, ~400 MB) exceed it. */
export const MEMORY_CAP_MB = 128;

interface WideData {
  readonly file: string;
  readonly rows: number;
}

let checksum = 0;

export default scenario<WideData>({
  name: "memory-bound",
  description: `wide CSV streamed and checksummed under a ${MEMORY_CAP_MB} MiB heap cap (file larger than the cap from small up)`,
  sizes: { tiny: 20_000, small: 1_500_000, full: 4_000_000 },
  generate: async (ctx) => ({
    file: await ctx.file("wide.csv", wideCsv(ctx.rows, ctx.seed)),
    rows: ctx.rows,
  }),
  pipeline: (d) =>
    pipeline("bench-memory-bound", { checkpoint: false })
      .from(csv(d.file))
      .via(
        tap((r: Record<string, string>) => {
          checksum = checksumStep(checksum, r as { note: string; email: string });
        }),
      )
      .to(discard<Record<string, string>>()),
  measure: {
    memoryCapMb: MEMORY_CAP_MB,
    outcome: (summary) => ({ rowsIn: summary.rowsIn, rowsOut: summary.rowsOut, digest: String(checksum) }),
    check: (o: Outcome, d) => (o.rowsIn === d.rows ? undefined : `read ${o.rowsIn} rows, expected ${d.rows}`),
  },
  peers: {
    "csv-parse": repoPeer("wide-readers.ts", "csvParse"),
    papaparse: repoPeer("wide-readers.ts", "papaparse"),
  },
});
