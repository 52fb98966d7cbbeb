/**
 * @module `/metrics` families from the metrics store: each pipeline's latest
 * completed run, per stage. `sluice serve` has no live bus, so without these
 * its `/metrics` held only empty families. A finished run's figures never
 * change, so they are gauges named `sluice_last_run_*` (not the live `_total`
 * counters, which count what this process saw), labelled by pipeline and stage;
 * `sluice_last_run_info` names the run. Latency comes as the stored
 * percentiles (the store keeps percentiles, not the live histogram's buckets).
 * A scrape costs one query for the latest completed runs; each run's report
 * is read once and kept (a completed run's report is final).
 */
import type { JsonObject, MetricsQueries } from "./types.ts";

/** Pipelines exported at most (the most recently completed first). */
const MAX_PIPELINES = 50;
/** Completed runs looked at to find each pipeline's latest. */
const RECENT_RUNS = 500;

type Labels = Record<string, string>;

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labels = (l: Labels) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(",")}}`;

interface StageRow {
  readonly stage: string;
  readonly values: Readonly<Record<string, number | null>>;
}

interface RunRow {
  readonly runId: string;
  readonly pipeline: string;
  readonly runtime: string;
  readonly endedAt: number | null;
  readonly durationS: number | null;
  readonly stages: readonly StageRow[];
}

const STAGE_GAUGES = [
  ["rows_in", "Records that entered the stage in the pipeline's latest completed run.", "rowsIn", 1],
  ["rows_out", "Records the stage emitted in the latest completed run.", "rowsOut", 1],
  ["filtered", "Records the stage dropped by design in the latest completed run.", "filtered", 1],
  [
    "dead_lettered",
    "Records the stage sent to the dead letter in the latest completed run.",
    "deadLettered",
    1,
  ],
  ["errors", "Errors the stage met in the latest completed run.", "errors", 1],
  ["bytes", "Bytes the stage took in during the latest completed run.", "bytes", 1],
  ["chunks", "Chunks the stage processed in the latest completed run.", "chunks", 1],
  ["busy_seconds", "Time the stage spent working in the latest completed run.", "busyMs", 1e-3],
  ["rows_per_second", "The stage's mean throughput over the latest completed run.", "rowsPerS", 1],
] as const;

const QUANTILES = [
  ["0.5", "p50Ms"],
  ["0.95", "p95Ms"],
  ["0.99", "p99Ms"],
] as const;

const numOrNull = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

function toRunRow(report: JsonObject): RunRow | undefined {
  const run = report.run as JsonObject | undefined;
  const stages = report.stages;
  if (!run || !Array.isArray(stages)) return undefined;
  const ended = typeof run.endedAt === "string" ? Date.parse(run.endedAt) : Number.NaN;
  const duration = numOrNull(run.durationMs);
  return {
    runId: String(run.runId),
    pipeline: String(run.pipeline),
    runtime: String(run.runtime ?? ""),
    endedAt: Number.isFinite(ended) ? ended / 1000 : null,
    durationS: duration === null ? null : duration / 1000,
    stages: stages.map((s) => {
      const o = s as JsonObject;
      const values: Record<string, number | null> = {};
      for (const [k, v] of Object.entries(o)) values[k] = numOrNull(v);
      return { stage: String(o.stage), values };
    }),
  };
}

/** Renders the latest completed run of each pipeline; keeps reports between scrapes. */
export class CompletedRunsExporter {
  readonly #reports = new Map<string, RunRow | null>();

  async render(store: MetricsQueries): Promise<string> {
    const recent = await store.runs({ status: "completed", limit: RECENT_RUNS });
    const latest = new Map<string, string>();
    for (const r of recent) {
      if (latest.size >= MAX_PIPELINES) break;
      if (!latest.has(r.pipeline)) latest.set(r.pipeline, r.runId);
    }
    const rows: RunRow[] = [];
    const keep = new Set(latest.values());
    for (const id of this.#reports.keys()) if (!keep.has(id)) this.#reports.delete(id);
    for (const runId of latest.values()) {
      let row = this.#reports.get(runId);
      if (row === undefined) {
        const report = await store.summary(runId);
        row = report ? (toRunRow(report) ?? null) : null;
        this.#reports.set(runId, row);
      }
      if (row) rows.push(row);
    }
    return renderRuns(rows);
  }
}

/** The `sluice_last_run_*` families for these runs (text format 0.0.4, no trailing newline issues). */
export function renderRuns(runs: readonly RunRow[]): string {
  const out: string[] = [];
  const family = (name: string, type: "gauge" | "summary", help: string) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const sample = (name: string, l: Labels, v: number) => out.push(`${name}${labels(l)} ${v}`);

  family("sluice_last_run_info", "gauge", "The latest completed run of each pipeline (value 1).");
  for (const r of runs)
    sample("sluice_last_run_info", { pipeline: r.pipeline, run_id: r.runId, runtime: r.runtime }, 1);
  family("sluice_last_run_end_timestamp_seconds", "gauge", "When the pipeline's latest completed run ended.");
  for (const r of runs)
    if (r.endedAt !== null)
      sample("sluice_last_run_end_timestamp_seconds", { pipeline: r.pipeline }, r.endedAt);
  family("sluice_last_run_duration_seconds", "gauge", "How long the pipeline's latest completed run took.");
  for (const r of runs)
    if (r.durationS !== null)
      sample("sluice_last_run_duration_seconds", { pipeline: r.pipeline }, r.durationS);
  for (const [name, help, key, scale] of STAGE_GAUGES) {
    const m = `sluice_last_run_stage_${name}`;
    family(m, "gauge", help);
    for (const r of runs)
      for (const s of r.stages) {
        const v = s.values[key];
        if (v !== null && v !== undefined) sample(m, { pipeline: r.pipeline, stage: s.stage }, v * scale);
      }
  }
  const q = "sluice_last_run_stage_chunk_latency_seconds";
  family(q, "summary", "Chunk latency percentiles of the stage over the latest completed run.");
  for (const r of runs)
    for (const s of r.stages) {
      const base = { pipeline: r.pipeline, stage: s.stage };
      // Chunks processed stand for the timed chunks (every chunk is timed); the sum is mean × count.
      const count = s.values.chunks ?? 0;
      for (const [quantile, key] of QUANTILES) {
        const v = s.values[key];
        if (count > 0 && v !== null && v !== undefined) sample(q, { ...base, quantile }, v / 1000);
      }
      sample(`${q}_sum`, base, ((s.values.meanMs ?? 0) * count) / 1000);
      sample(`${q}_count`, base, count);
    }
  return `${out.join("\n")}\n`;
}
