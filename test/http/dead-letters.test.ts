/**
 * `/api/runs/{id}/dead-letters` (issue 20) through `app.request()`: the groups
 * `sluice dlq --json` prints (with their series over time), the letters with filters, a pipeline name for its
 * latest run, strict query validation, and 503 when the server has no state
 * directory.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.ts";

const home = mkdtempSync(join(tmpdir(), "sluice-http-dlq-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const runId = "20261206T070000000Z-abc123";
const runDir = join(home, "orders", runId);
mkdirSync(join(runDir, "journal"), { recursive: true });
writeFileSync(
  join(runDir, "run.json"),
  JSON.stringify({ runId, pipeline: "orders", cwd: home, createdAt: 0, definitionHash: "x" }),
);
const letter = (line: number, reason: string, stage = "source") =>
  JSON.stringify({
    kind: "dead.letter",
    ts: 1000 + line,
    runId,
    pipeline: "orders",
    stage,
    reason,
    attempts: 1,
    position: { file: "in.csv", line },
    raw: `${line},x`,
  });
writeFileSync(
  join(runDir, "dead-letter.ndjson"),
  `${[letter(3, "schema: amount 3 is bad"), letter(7, "schema: amount 7 is bad"), letter(9, "2:map threw: boom", "2:map")].join("\n")}\n`,
);

describe("dead-letter routes", () => {
  const { app } = createApp({ home });

  it("groups by stage and normalised reason, with counts", async () => {
    const res = await app.request(`/api/runs/${runId}/dead-letters`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.counts).toEqual({ total: 3, redriven: 0, dead: 3 });
    expect(body.groups[0]).toMatchObject({
      stage: "source",
      reason: "schema: amount <n> is bad",
      count: 2,
      first: { line: 3 },
      last: { line: 7 },
      sample: "3,x",
    });
    const byName = await (await app.request("/api/runs/orders/dead-letters?stage=2:map")).json();
    expect(byName.run).toBe(runId);
    expect(byName.groups).toHaveLength(1);
  });

  it("gives each group its letters per time bucket over the letters' range (?buckets=, 30 by default)", async () => {
    const body = await (await app.request(`/api/runs/${runId}/dead-letters?buckets=3`)).json();
    expect(body).toMatchObject({ from: 1003, to: 1012, bucketMs: 3 });
    expect(body.groups.map((g: { stage: string; series: number[] }) => [g.stage, g.series])).toEqual([
      ["source", [1, 1, 0]],
      ["2:map", [0, 0, 1]],
    ]);
    expect(body.groups[0].samples).toEqual(["3,x", "7,x"]);
    const byDefault = await (await app.request(`/api/runs/${runId}/dead-letters`)).json();
    expect(byDefault.groups[0].series).toHaveLength(30);
    const none = await (await app.request(`/api/runs/${runId}/dead-letters?since=999999`)).json();
    expect(none).toMatchObject({ from: null, to: null, bucketMs: null, groups: [] });
    // A date as the CLI's --since takes it; anything else is a 400 that says what a time is.
    const dated = await (
      await app.request(`/api/runs/${runId}/dead-letters?since=1970-01-01T00:00:02Z`)
    ).json();
    expect(dated.groups).toEqual([]);
    const ago = await app.request(`/api/runs/${runId}/dead-letters?since=2h`);
    expect(ago.status).toBe(400);
    expect((await ago.json()).error.message).toContain("must be ms since epoch or an ISO-8601 date-time");
    for (const bad of ["0", "201", "1.5", "x", "' OR 1=1 --"]) {
      const res = await app.request(`/api/runs/${runId}/dead-letters?buckets=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
      expect((await res.json()).error.field).toBe("query.buckets");
    }
    expect((await app.request(`/api/runs/${runId}/dead-letters/letters?buckets=3`)).status).toBe(400);
  });

  it("lists letters, filtered, with their raw input", async () => {
    const body = await (
      await app.request(`/api/runs/${runId}/dead-letters/letters?reason=amount&limit=1`)
    ).json();
    expect(body.total).toBe(2);
    expect(body.items).toEqual([
      expect.objectContaining({
        index: 0,
        status: "dead",
        stage: "source",
        raw: "3,x",
        position: { file: "in.csv", line: 3 },
      }),
    ]);
    expect((await app.request(`/api/runs/${runId}/dead-letters?bogus=1`)).status).toBe(400);
  });

  it("filters by a group's normalised reason as shown, and refuses SQL- or path-like filters by name", async () => {
    const q = encodeURIComponent("schema: amount <n> is bad");
    const shown = await (await app.request(`/api/runs/${runId}/dead-letters?reason=${q}`)).json();
    expect(shown.groups.map((g: { count: number }) => g.count)).toEqual([2]);
    for (const [name, bad] of [
      ["reason", "amount' OR 1=1 --"],
      ["reason", "../../etc/passwd"],
      ["stage", "x; DROP TABLE runs"],
    ]) {
      const res = await app.request(`/api/runs/${runId}/dead-letters?${name}=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
      expect((await res.json()).error.field).toBe(`query.${name}`);
    }
  });

  it("answers 404 for an unknown run, without naming the state directory", async () => {
    const res = await app.request("/api/runs/nosuchrun/dead-letters");
    expect(res.status).toBe(404);
    expect((await res.json()).error.message).not.toContain(home);
  });

  it("answers 503 without a state directory", async () => {
    const { app: bare } = createApp({});
    expect((await bare.request(`/api/runs/${runId}/dead-letters`)).status).toBe(503);
  });
});
