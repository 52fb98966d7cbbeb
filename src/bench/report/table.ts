/**
 * @module The terminal report: a header saying what was measured on what
 * (runtimes, machine, its load before and after, git revision), one table
 * row per scenario × implementation × runtime with medians and their
 * spread, ratios against sluice taken pair by pair, and the verdict against
 * the stored baseline; then notes for anything that failed or was skipped.
 */
import type { MachineInfo } from "../internal/host.ts";
import type { BaselineComparison } from "../results.ts";
import type { BenchRun, ResultSummary } from "../runner.ts";
import { int, ms, percent, ratio, si, withSpread } from "./format.ts";

export interface ReportContext {
  readonly machine: MachineInfo;
  readonly loadAfter?: readonly number[];
  readonly git?: { readonly commit: string; readonly dirty: boolean };
  readonly comparisons: ReadonlyMap<ResultSummary, BaselineComparison>;
  readonly storeNote?: string;
}

/** The header lines (also used by benchmarks/RESULTS.md). */
export function headerLines(run: BenchRun, ctx: ReportContext): string[] {
  const m = ctx.machine;
  const versions = [
    ...new Set(run.results.filter((r) => r.runtimeVersion).map((r) => `${r.runtime} ${r.runtimeVersion}`)),
  ];
  const load = (l: readonly number[] | undefined) => (l ? l.map((x) => x.toFixed(2)).join(" / ") : "?");
  return [
    `sluice bench ${run.id} · ${new Date(run.startedAt).toISOString()} · scale ${run.scale} · ${run.runs} run${run.runs === 1 ? "" : "s"} each, medians (min–max)`,
    `runtimes: ${versions.join(", ") || run.runtimes.join(", ")}`,
    `machine: ${m.host} · ${m.cpus} × ${m.cpuModel} · ${int(m.memoryMb)} MiB · ${m.os} ${m.arch}`,
    `load average (1/5/15 min): ${load(m.loadAverage)} at start, ${load(ctx.loadAfter)} at end${
      (m.loadAverage[0] ?? 0) > m.cpus ? " — the machine was busy: figures are noisy, compare the ratios" : ""
    }`,
    `git: ${ctx.git ? `${ctx.git.commit.slice(0, 12)}${ctx.git.dirty ? " (with uncommitted changes)" : ""}` : "not a git checkout"}`,
  ];
}

/** The table of results. */
export function renderTable(run: BenchRun, ctx: ReportContext): string {
  const head = [
    "scenario",
    "implementation",
    "runtime",
    "rows",
    "rows/s",
    "× sluice",
    "p50 ms",
    "p99 ms",
    "peak RSS MiB",
    "× RSS",
    "CPU",
    "vs baseline",
  ];
  const rows: string[][] = [];
  for (const r of run.results) {
    if (r.status === "skipped") {
      rows.push([
        r.scenario,
        r.implementation,
        r.runtime,
        int(r.rows),
        "skipped",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
      ]);
      continue;
    }
    if (r.runs === 0) {
      rows.push([r.scenario, r.implementation, r.runtime, int(r.rows), "FAILED", "", "", "", "", "", "", ""]);
      continue;
    }
    const cpu = r.cpuMs && r.wallMs ? `${Math.round((r.cpuMs.median / r.wallMs.median) * 100)}%` : "–";
    const cap = r.memoryCapMb ? ` /${r.memoryCapMb}` : "";
    rows.push([
      r.scenario,
      r.implementation + (r.status === "failed" ? " (!)" : ""),
      r.runtime,
      int(r.rows),
      withSpread(r.rowsPerS),
      r.implementation === "sluice" ? "1" : withSpread(r.vsSluice?.rowsPerS, ratio),
      ms(r.p50Ms?.median),
      ms(r.p99Ms?.median),
      withSpread(r.peakRssMb, (x) => x.toFixed(0)) + cap,
      r.implementation === "sluice" ? "1" : withSpread(r.vsSluice?.peakRssMb, ratio),
      cpu,
      baselineCell(ctx.comparisons.get(r)),
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const numeric = new Set([3, 4, 5, 6, 7, 8, 9, 10]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  const out = [line(head), widths.map((w) => "─".repeat(w)).join("  ")];
  let last = "";
  for (const r of rows) {
    if (last && r[0] !== last) out.push("");
    last = r[0];
    out.push(line(r));
  }
  return out.join("\n");
}

function baselineCell(c: BaselineComparison | undefined): string {
  if (!c) return "–";
  if (c.checks.length === 0) return `n=${c.samples}, no verdict`;
  const tp = c.checks.find((x) => x.metric === "rows_per_s");
  const bad = c.checks.filter((x) => x.regressed);
  if (c.regressed) return `REGRESSED ${bad.map((x) => `${x.metric} ${percent(x.change)}`).join(", ")}`;
  const head = tp ? `rows/s ${percent(tp.change)}` : "ok";
  return `${head} (n=${c.samples})${bad.length ? ` ~${bad.map((x) => x.metric).join(",")}` : ""}`;
}

/** Lines explaining failures, skips and regressions. */
export function noteLines(run: BenchRun, ctx: ReportContext): string[] {
  const out: string[] = [];
  for (const r of run.results) {
    if (r.note)
      out.push(
        `${r.status === "skipped" ? "skipped" : "failed"}: ${r.scenario}/${r.implementation} on ${r.runtime}: ${r.note}`,
      );
    const c = ctx.comparisons.get(r);
    if (c?.regressed) {
      for (const x of c.checks.filter((k) => k.regressed)) {
        out.push(
          `regression: ${r.scenario}/${r.implementation} on ${r.runtime}: ${x.metric} ${si(x.value)} vs baseline ${si(x.baseline)} (${percent(x.change)}, tolerance ${Math.round(x.tolerance * 100)}%)`,
        );
      }
    }
  }
  const capped = run.results.find((r) => r.memoryCapMb !== undefined && r.runs > 0);
  if (capped) {
    out.push(
      `memory cap (peak RSS /cap): ${capped.memoryCapMb} MiB of V8 heap (--max-old-space-size) on node and deno, where a process that needs more dies; bun has no such limit, so there only peak RSS is held against it`,
    );
  }
  if (ctx.storeNote) out.push(ctx.storeNote);
  return out;
}

/** The whole terminal report. */
export function renderReport(run: BenchRun, ctx: ReportContext): string {
  const parts = [...headerLines(run, ctx), "", renderTable(run, ctx)];
  const notes = noteLines(run, ctx);
  if (notes.length) parts.push("", ...notes);
  parts.push(
    "",
    "rows/s = input rows ÷ wall time of the work (module loading excluded); × sluice = this ÷ sluice, pair by pair (run i against run i);",
    "p50/p99 = latency of sluice's chunks from source to sink (peers: of the unit they report, if any); peak RSS of the measuring process.",
  );
  return parts.join("\n");
}
