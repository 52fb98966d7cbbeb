/** `/metrics` is valid Prometheus text (checked by `promtool check metrics`) with counters and fixed-bucket histograms. */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.ts";
import { BUCKET_BOUNDS_MS } from "../../src/metrics/histogram.ts";
import { hasTool, requireTool } from "../helpers/tools.ts";
import { fakeStore, liveRun } from "./fakes.ts";

const promtool = hasTool("promtool", ["--version"]);

async function exposition(): Promise<string> {
  const run = liveRun("20260102T000000000Z-prom01", 'we"ird\\pipe');
  const { app } = createApp({ metrics: fakeStore(), bus: run.bus });
  run.start();
  run.progress("map");
  run.progress("sink");
  run.emit({
    kind: "alert.raised",
    alertId: "a1",
    rule: "dead_letter_rate",
    severity: "critical",
    value: 0.1,
    threshold: 0.05,
    message: "m",
  });
  run.emit({
    kind: "run.ended",
    status: "completed",
    rowsIn: 1,
    rowsOut: 1,
    filtered: 0,
    deadLettered: 0,
    durationMs: 1,
  });
  await app.request("/api/runs");
  const r = await app.request("/metrics");
  expect(r.headers.get("Content-Type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return r.text();
}

describe("Prometheus exposition", () => {
  it("has counters, a histogram over BUCKET_BOUNDS_MS in seconds, and escaped labels", async () => {
    const text = await exposition();
    expect(text).toContain("# TYPE sluice_stage_rows_in_total counter");
    expect(text).toContain('sluice_stage_rows_in_total{pipeline="we\\"ird\\\\pipe",stage="map"} 1000');
    expect(text).toContain("# TYPE sluice_stage_chunk_latency_seconds histogram");
    const buckets = text
      .split("\n")
      .filter((l) => l.startsWith("sluice_stage_chunk_latency_seconds_bucket") && l.includes('stage="map"'));
    expect(buckets).toHaveLength(BUCKET_BOUNDS_MS.length + 1);
    expect(buckets.at(-1)).toMatch(/le="\+Inf"} 5$/);
    expect(text).toMatch(/sluice_stage_chunk_latency_seconds_count\{[^}]*stage="map"} 5/);
    expect(text).toContain('sluice_http_requests_total{method="GET",route="/api/runs",code="200"} 1');
    expect(text).toMatch(/sluice_alerts_active\{[^}]*severity="critical"} 1/);
  });

  it("from the store (sluice serve): each pipeline's latest completed run per stage, each report read once", async () => {
    const store = fakeStore();
    const { app } = createApp({ metrics: store });
    const first = await (await app.request("/metrics")).text();
    const second = await (await app.request("/metrics")).text();
    const lastRun = (t: string) => t.split("\n").filter((l) => l.includes("sluice_last_run_"));
    expect(lastRun(second)).toEqual(lastRun(first));
    expect(first).toContain(
      'sluice_last_run_info{pipeline="orders",run_id="20260101T000004000Z-abc004",runtime=""} 1',
    );
    expect(first).toContain('sluice_last_run_stage_rows_in{pipeline="orders",stage="source"} 10\n');
    expect(first).toContain("# TYPE sluice_last_run_stage_chunk_latency_seconds summary");
    expect(first).toContain("sluice_metrics_store_up 1\n");
    expect(store.calls.filter((c) => c.method === "summary")).toEqual([
      { method: "summary", args: ["20260101T000004000Z-abc004"] },
    ]);
  });

  it("passes promtool check metrics", async (ctx) => {
    requireTool(ctx, promtool, "promtool", "apt-get install prometheus");
    const text = await exposition();
    const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
