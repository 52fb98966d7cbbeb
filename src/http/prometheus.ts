/**
 * @module `/metrics` in the Prometheus text format (version 0.0.4): counters
 * as `_total` counters, chunk latency as a histogram over the engine's fixed
 * bounds (`BUCKET_BOUNDS_MS`, exposed in seconds), gauges for live runs and
 * active alerts, and the server's own request counts. Label values are
 * pipeline and stage names, escaped as the format requires; no token, path
 * or record content is ever a label.
 */
import { BUCKET_BOUNDS_MS } from "../metrics/histogram.ts";
import type { LiveState } from "./live.ts";

type Labels = Record<string, string>;

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(l: Labels): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function num(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "+Inf";
  if (x === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(x);
}

class Out {
  lines: string[] = [];
  family(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }
  sample(name: string, l: Labels, v: number): void {
    this.lines.push(`${name}${labels(l)} ${num(v)}`);
  }
}

/** Request counts by route template and status, kept by the app's middleware. */
export type RequestCounts = Map<string, { method: string; route: string; code: string; n: number }>;

const STAGE_COUNTERS = [
  ["rows_in", "Records that entered the stage.", (s) => s.rowsIn],
  ["rows_out", "Records the stage emitted.", (s) => s.rowsOut],
  ["filtered", "Records the stage dropped by design.", (s) => s.filtered],
  ["dead_lettered", "Records the stage sent to the dead letter.", (s) => s.deadLettered],
  ["errors", "Errors the stage met (retried or dead-lettered).", (s) => s.errors],
  ["bytes", "Bytes the stage took in.", (s) => s.bytes],
  ["chunks", "Chunks the stage processed.", (s) => s.chunks],
] as const satisfies ReadonlyArray<
  readonly [string, string, (s: import("./live.ts").StageCounters) => number]
>;

export function renderPrometheus(live: LiveState | undefined, requests: RequestCounts): string {
  const o = new Out();
  const stages = live ? [...live.stages.values()] : [];
  for (const [name, help, get] of STAGE_COUNTERS) {
    const m = `sluice_stage_${name}_total`;
    o.family(m, "counter", help);
    for (const s of stages) o.sample(m, { pipeline: s.pipeline, stage: s.stage }, get(s));
  }
  o.family("sluice_stage_busy_seconds_total", "counter", "Time the stage spent working.");
  for (const s of stages)
    o.sample("sluice_stage_busy_seconds_total", { pipeline: s.pipeline, stage: s.stage }, s.busyMs / 1000);

  const h = "sluice_stage_chunk_latency_seconds";
  o.family(h, "histogram", "Time to process one chunk in a stage (fixed log-spaced buckets).");
  for (const s of stages) {
    const base = { pipeline: s.pipeline, stage: s.stage };
    let cum = 0;
    const counts = s.latency.counts;
    for (let i = 0; i < BUCKET_BOUNDS_MS.length; i++) {
      cum += counts[i];
      o.sample(`${h}_bucket`, { ...base, le: String(BUCKET_BOUNDS_MS[i] / 1000) }, cum);
    }
    o.sample(`${h}_bucket`, { ...base, le: "+Inf" }, s.latency.count);
    o.sample(`${h}_sum`, base, s.latency.sumMs / 1000);
    o.sample(`${h}_count`, base, s.latency.count);
  }

  o.family("sluice_events_total", "counter", "Events published on the bus, by kind.");
  for (const [k, n] of live?.eventCounts ?? []) {
    const [pipeline, kind] = k.split("\u0000");
    o.sample("sluice_events_total", { pipeline, kind }, n);
  }
  o.family("sluice_runs_ended_total", "counter", "Runs that ended, by status.");
  for (const [k, n] of live?.runsByStatus ?? []) {
    const [pipeline, status] = k.split("\u0000");
    o.sample("sluice_runs_ended_total", { pipeline, status }, n);
  }
  o.family("sluice_runs_running", "gauge", "Runs in progress in this process.");
  const running = new Map<string, number>();
  for (const r of live?.runs() ?? [])
    if (r.status === "running") running.set(r.pipeline, (running.get(r.pipeline) ?? 0) + 1);
  for (const [pipeline, n] of running) o.sample("sluice_runs_running", { pipeline }, n);
  o.family("sluice_alerts_active", "gauge", "Alerts raised and not resolved.");
  const active = new Map<string, number>();
  for (const a of live?.alerts("active") ?? []) {
    const k = `${a.pipeline}\u0000${a.severity}`;
    active.set(k, (active.get(k) ?? 0) + 1);
  }
  for (const [k, n] of active) {
    const [pipeline, severity] = k.split("\u0000");
    o.sample("sluice_alerts_active", { pipeline, severity }, n);
  }
  o.family("sluice_http_requests_total", "counter", "HTTP requests served, by route template and status.");
  for (const r of requests.values())
    o.sample("sluice_http_requests_total", { method: r.method, route: r.route, code: r.code }, r.n);
  return `${o.lines.join("\n")}\n`;
}
