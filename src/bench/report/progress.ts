/**
 * @module The progress bar of `sluice bench`: on a terminal it redraws one
 * line (steps done, the running measurement and its records); elsewhere it
 * prints one plain line per step, so logs stay readable.
 */
import type { Output } from "../../runtime/process.ts";
import type { BenchProgress } from "../runner.ts";

export interface ProgressBar {
  update(p: BenchProgress): void;
  stop(): void;
}

export function progressBar(out: Output, startedAt = performance.now()): ProgressBar {
  let lastLabel = "";
  let drawn = false;
  return {
    update(p) {
      const frac = p.total > 0 ? (p.done + (p.of && p.rows ? Math.min(1, p.rows / p.of) : 0)) / p.total : 0;
      if (!out.isTTY) {
        if (p.label !== lastLabel) out.write(`[${p.done + 1}/${p.total}] ${p.label}\n`);
        lastLabel = p.label;
        return;
      }
      const width = 24;
      const full = Math.round(frac * width);
      const bar = `${"█".repeat(full)}${"░".repeat(width - full)}`;
      const secs = Math.round((performance.now() - startedAt) / 1000);
      const rows = p.of && p.rows ? ` · ${Math.min(100, Math.round((p.rows / p.of) * 100))}%` : "";
      const line = `${bar} ${p.done}/${p.total} · ${p.label}${rows} · ${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, "0")}s`;
      out.write(`\r\x1b[2K${line.slice(0, Math.max(20, out.columns - 1))}`);
      drawn = true;
    },
    stop() {
      if (drawn) out.write("\r\x1b[2K");
    },
  };
}
