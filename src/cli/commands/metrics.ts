/**
 * @module `sluice metrics [RUN]` (a run's figures from the metrics store:
 * stages with throughput and latency percentiles, resources, alerts, remote
 * workers, the configuration changes, the bottleneck and recommendations), `sluice
 * metrics --keep 30d` (retention) and `sluice sql "…"` (read-only SQL over the
 * store; `--json` prints rows as one JSON array).
 */
import { catchUp } from "../../metrics/catch-up.ts";
import { openMetricsStore } from "../../metrics/store.ts";
import type { ConfigChangeRecord } from "../../metrics/summary.ts";
import { StateError } from "../../pipeline/errors.ts";
import { safeJson } from "../../pipeline/internal/dead-letter.ts";
import { stateHome } from "../../pipeline/run.ts";
import { toMillis } from "../../pipeline/units.ts";
import { stderr, stdout } from "../../runtime/process.ts";
import { bytes, compact, duration, int } from "../format.ts";
import { isPipelineNotRun, printTrends } from "./metrics-trends.ts";
import { openStoreForReading, requireStateHome } from "./store-reader.ts";

export interface MetricsFlags {
  home?: string;
  json: boolean;
  keep?: string;
}

const ms = (v: number | null | undefined) =>
  v === null || v === undefined ? "-" : v < 10 ? v.toFixed(2) : v.toFixed(0);

/** Config-change lines shown at most (the last one says how many more there are). */
const MAX_CHANGES = 20;
/** A reason longer than this is cut with "…" (the full text is in the journal and `--json`). */
const MAX_REASON = 90;

const setting = (v: number | null) =>
  v === null ? "?" : Number.isInteger(v) ? int(v) : String(+v.toFixed(3));

/** `text` up to `max` characters, cut at a word with "…" when longer. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max - 1);
  const space = head.lastIndexOf(" ");
  return `${(space > max / 2 ? head.slice(0, space) : head).trimEnd()}…`;
}

/** `12:00:03 2:map workers 2 → 3 (reason)`: the time is UTC, as `sluice events` prints it. */
function configChangeLine(c: ConfigChangeRecord): string {
  const t = new Date(c.changedAt);
  const at = Number.isNaN(t.getTime()) ? c.changedAt : t.toISOString().slice(11, 19);
  const reason = c.reason ? ` (${cut(c.reason, MAX_REASON)})` : "";
  return `${at} ${c.stage ? `${c.stage} ` : ""}${c.setting} ${setting(c.from)} → ${setting(c.to)}${reason}`;
}

/** The "config changes:" section's lines: at most MAX_CHANGES, the last saying how many more. */
export function configChangeLines(changes: readonly ConfigChangeRecord[], runId: string): string[] {
  const shown = changes.length > MAX_CHANGES ? MAX_CHANGES - 1 : changes.length;
  const lines = changes.slice(0, shown).map((c) => `  ${configChangeLine(c)}`);
  if (shown < changes.length)
    lines.push(`  … ${changes.length - shown} more (sluice events ${runId} --kind config.changed)`);
  return lines;
}

export async function metricsCommand(runId: string | undefined, flags: MetricsFlags): Promise<number> {
  if (flags.keep !== undefined) {
    const keepMs = toMillis(flags.keep as never, "--keep");
    await requireStateHome(flags.home);
    const store = await openMetricsStore(flags.home);
    try {
      // Caught up first, so every run has its mark and a pruned run is remembered as pruned at its journal's size.
      await catchUp(store, stateHome(flags.home), {
        onWarning: (message) => stderr.write(`sluice: warning: ${message}\n`),
      });
      const r = await store.prune(keepMs);
      stdout.write(`pruned ${r.runs.length} run(s) older than ${flags.keep} (${int(r.rows)} rows)\n`);
    } finally {
      await store.close();
    }
    return 0;
  }
  const store = await openStoreForReading(flags.home, flags.json);
  try {
    let id = runId;
    // A pipeline's name (and no run by that id): its trends over its last runs.
    if (id && (await isPipelineNotRun(store, id))) return await printTrends(store, id, flags.json);
    if (!id) {
      const latest = await store.query("SELECT run_id FROM runs ORDER BY started_at DESC NULLS LAST LIMIT 1");
      id = latest.rows[0]?.run_id as string | undefined;
      if (!id)
        throw new StateError(`the metrics store of ${stateHome(flags.home)} has no runs yet`, {
          hint: "Run a pipeline first, or point --home (or SLUICE_HOME) at the directory your runs use.",
        });
    }
    const report = await store.summary(id);
    if (!report)
      throw new StateError(`no run or pipeline "${id}" in the metrics store of ${stateHome(flags.home)}`, {
        hint: "`sluice runs` lists the runs (use --home DIR or SLUICE_HOME if they are elsewhere).",
      });
    const bottlenecks = await store.bottlenecks(id);
    const recommendations = await store.recommendations(id);
    if (flags.json) {
      stdout.write(`${safeJson({ ...report, bottlenecks, recommendations })}\n`);
      return 0;
    }
    const r = report.run;
    const lines = [
      `run ${r.runId} · ${r.pipeline} · ${r.status}${r.durationMs !== null ? ` in ${duration(r.durationMs)}` : ""}`,
      `rows in ${int(r.rowsIn ?? 0)} · out ${int(r.rowsOut ?? 0)} · filtered ${int(r.filtered ?? 0)} · dead-lettered ${int(r.deadLettered ?? 0)}`,
      "",
      table(
        [
          "stage",
          "rows in",
          "rows out",
          "rows/s",
          "busy %",
          "cpu %",
          "bound",
          "p50 ms",
          "p95 ms",
          "p99 ms",
          "errors",
          "dead",
        ],
        report.stages.map((s) => [
          s.stage,
          int(s.rowsIn),
          int(s.rowsOut),
          s.rowsPerS === null ? "-" : compact(s.rowsPerS),
          s.busyShare === null ? "-" : `${(s.busyShare * 100).toFixed(0)}%`,
          s.cpuMs === null || !(s.busyMs > 0) ? "-" : `${((s.cpuMs / s.busyMs) * 100).toFixed(0)}%`,
          s.boundBy ?? "-",
          ms(s.p50Ms),
          ms(s.p95Ms),
          ms(s.p99Ms),
          int(s.errors),
          int(s.deadLettered),
        ]),
      ),
    ];
    const res = report.resources;
    if (res)
      lines.push(
        "",
        `resources: cpu ${res.cpuPercent?.toFixed(0) ?? "-"}% (max ${res.cpuPercentMax?.toFixed(0) ?? "-"}%) · peak RSS ${res.peakRssBytes ? bytes(res.peakRssBytes) : "-"} · event-loop delay max ${ms(res.eventLoopDelayMsMax)} ms`,
      );
    if (report.alerts.length) {
      lines.push("", "alerts:");
      for (const a of report.alerts)
        lines.push(
          `  ${a.severity} ${a.rule}${a.stage ? ` (${a.stage})` : ""}: ${a.message ?? a.value}${a.resolvedAt ? " — resolved" : ""}`,
        );
    }
    const workers = report.clusterWorkers ?? [];
    if (workers.length)
      lines.push(
        "",
        "remote workers (busy: busy time over the run's duration):",
        table(
          ["stage", "worker", "tasks", "records", "busy %", "failures", "redelivered", "state"],
          workers.map((w) => [
            w.stage,
            w.workerId,
            int(w.tasks),
            int(w.records),
            w.busyShare === null ? "-" : `${(w.busyShare * 100).toFixed(0)}%`,
            int(w.failures),
            int(w.redelivered),
            w.state,
          ]),
        ),
      );
    const changes = report.configChanges ?? [];
    if (changes.length) lines.push("", "config changes:", ...configChangeLines(changes, r.runId));
    if (bottlenecks?.bottleneck)
      lines.push(
        "",
        `bottleneck: ${bottlenecks.bottleneck.stage}`,
        ...bottlenecks.evidence.map((e) => `  ${e}`),
      );
    if (recommendations?.length) {
      lines.push("", "recommendations:");
      for (const rec of recommendations) lines.push(`  - ${rec.action} (${rec.reason})`);
    }
    stdout.write(`${lines.join("\n")}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

export async function sqlCommand(sql: string, flags: { home?: string; json: boolean }): Promise<number> {
  const store = await openStoreForReading(flags.home, flags.json);
  try {
    const result = await store.query(sql);
    if (flags.json) {
      stdout.write(`${safeJson(result.rows)}\n`);
      return 0;
    }
    const cols = result.columns.map((c) => c.name);
    stdout.write(
      `${table(
        cols,
        result.rows.map((row) => cols.map((c) => cell(row[c]))),
      )}\n`,
    );
    stdout.write(
      `(${result.rows.length} row${result.rows.length === 1 ? "" : "s"}${result.truncated ? ", truncated" : ""})\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return safeJson(v);
  return String(v);
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
