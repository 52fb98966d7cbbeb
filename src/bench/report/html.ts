/**
 * @module `sluice bench --html report.html`: one self-contained page (inline
 * CSS and SVG, no script, nothing fetched) with, per scenario, throughput
 * and peak RSS against the peers (bars with min–max whiskers), throughput
 * and RSS over time of each implementation's median run, sluice against its
 * stored baseline, and the full table.
 */
import type { Sample } from "../protocol.ts";
import type { BenchRun, ResultSummary } from "../runner.ts";
import { percent, ratio, si, withSpread } from "./format.ts";
import { type Bar, barChart, esc, lineChart, PALETTE, type Series } from "./svg.ts";
import { headerLines, noteLines, type ReportContext, renderTable } from "./table.ts";

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#111;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:36px;border-bottom:1px solid #ddd}
pre{background:#f6f6f6;padding:12px;overflow-x:auto;font-size:12px}
svg{display:block;margin:12px 0;font:11px system-ui,sans-serif}svg .t{font-weight:600;font-size:12px}
svg .w{stroke:#111;stroke-width:1.2}svg .a{stroke:#555}svg .g{stroke:#eee}
.charts{display:flex;flex-wrap:wrap;gap:8px 24px}.note{color:#555}.bad{color:#b91c1c;font-weight:600}`;

function label(r: ResultSummary, runtimes: number): string {
  return runtimes > 1 ? `${r.implementation} · ${r.runtime}` : r.implementation;
}

/** Throughput over time from cumulative record counts (rows/s between samples). */
function throughput(t: readonly Sample[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 1; i < t.length; i++) {
    const dt = t[i].t - t[i - 1].t;
    if (dt > 0) out.push([t[i].t / 1000, ((t[i].rows - t[i - 1].rows) / dt) * 1000]);
  }
  return out;
}

export function renderHtml(run: BenchRun, ctx: ReportContext): string {
  const nRuntimes = run.runtimes.length;
  const scenarios = [...new Set(run.results.map((r) => r.scenario))];
  const body: string[] = [
    `<h1>sluice bench</h1>`,
    `<p class="note">${headerLines(run, ctx).map(esc).join("<br>")}</p>`,
  ];
  for (const name of scenarios) {
    const rs = run.results.filter((r) => r.scenario === name && r.runs > 0);
    const all = run.results.filter((r) => r.scenario === name);
    body.push(`<h2>${esc(name)}</h2>`);
    if (rs.length === 0) {
      body.push(
        `<p class="bad">${all.map((r) => esc(`${r.implementation}: ${r.note ?? r.status}`)).join("<br>")}</p>`,
      );
      continue;
    }
    const colors = new Map(rs.map((r, i) => [r, PALETTE[i % PALETTE.length]]));
    const bars = (f: (r: ResultSummary) => Bar | undefined) =>
      rs.map(f).filter((b): b is Bar => b !== undefined);
    const tp = barChart(
      "throughput, median of runs (whiskers: min–max)",
      "rows/s",
      bars((r) =>
        r.rowsPerS
          ? {
              label: label(r, nRuntimes),
              value: r.rowsPerS.median,
              min: r.rowsPerS.min,
              max: r.rowsPerS.max,
              color: colors.get(r),
              note: `${si(r.rowsPerS.median)}${r.vsSluice?.rowsPerS ? ` · ${ratio(r.vsSluice.rowsPerS.median)} sluice` : ""}`,
            }
          : undefined,
      ),
    );
    const rss = barChart(
      "peak RSS, median of runs",
      "MiB",
      bars((r) =>
        r.peakRssMb
          ? {
              label: label(r, nRuntimes),
              value: r.peakRssMb.median,
              min: r.peakRssMb.min,
              max: r.peakRssMb.max,
              color: colors.get(r),
              note: `${r.peakRssMb.median.toFixed(0)}${r.memoryCapMb ? ` / cap ${r.memoryCapMb}` : ""}${r.vsSluice?.peakRssMb ? ` · ${ratio(r.vsSluice.peakRssMb.median)} sluice` : ""}`,
            }
          : undefined,
      ),
    );
    const overTime = (f: (t: readonly Sample[]) => Array<[number, number]>): Series[] =>
      rs.map((r) => ({ label: label(r, nRuntimes), points: f(r.timeline), color: colors.get(r) }));
    const tpTime = lineChart("throughput over time (median run)", "s", "rows/s", overTime(throughput));
    const rssTime = lineChart(
      "RSS over time (median run)",
      "s",
      "MiB",
      overTime((t) => t.map((s) => [s.t / 1000, s.rssMb])),
    );
    const base: Bar[] = [];
    for (const r of rs) {
      const c = ctx.comparisons.get(r);
      const b = c?.metrics.rows_per_s;
      if (!c || b === undefined || !r.rowsPerS) continue;
      base.push({ label: `${label(r, nRuntimes)} baseline (n=${c.samples})`, value: b, color: "#9ca3af" });
      const tpCheck = c.checks.find((x) => x.metric === "rows_per_s");
      base.push({
        label: `${label(r, nRuntimes)} now`,
        value: r.rowsPerS.median,
        min: r.rowsPerS.min,
        max: r.rowsPerS.max,
        color: c.regressed ? "#b91c1c" : colors.get(r),
        note: `${si(r.rowsPerS.median)}${tpCheck ? ` (${percent(tpCheck.change)})` : ""}${c.regressed ? " REGRESSED" : ""}`,
      });
    }
    const vsBase = barChart(
      "throughput against the stored baseline (median of earlier runs)",
      "rows/s",
      base,
    );
    body.push(`<div class="charts">${tp}${rss}${tpTime}${rssTime}${vsBase}</div>`);
    const failed = all.filter((r) => r.note);
    if (failed.length)
      body.push(
        `<p class="bad">${failed.map((r) => esc(`${r.implementation} (${r.runtime}): ${r.note}`)).join("<br>")}</p>`,
      );
    body.push(
      `<p class="note">${rs.map((r) => esc(`${label(r, nRuntimes)}: ${withSpread(r.rowsPerS)} rows/s over ${r.runs} runs`)).join(" · ")}</p>`,
    );
  }
  body.push(`<h2>all results</h2><pre>${esc(renderTable(run, ctx))}</pre>`);
  const notes = noteLines(run, ctx);
  if (notes.length) body.push(`<pre>${esc(notes.join("\n"))}</pre>`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sluice bench ${esc(run.id)}</title><style>${CSS}</style></head><body>${body.join("\n")}</body></html>\n`;
}
