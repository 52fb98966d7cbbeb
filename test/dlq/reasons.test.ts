/**
 * Dead-letter reasons: normalised into groups (`events/dead-letter-reason.ts`), grouped in the
 * queue, and the `newDeadLetterReason` alert rule that fires when a run dead-letters a reason no
 * earlier run of its pipeline had.
 */
import { describe, expect, it } from "vitest";
import { groupLetters } from "../../src/dlq/queue.ts";
import { normaliseReason } from "../../src/events/dead-letter-reason.ts";
import type { EventOf, SluiceEvent } from "../../src/events/schema.ts";
import { AlertEngine } from "../../src/metrics/alerts.ts";
import { knownReasons, type RunFigures } from "../../src/metrics/run-summaries.ts";

const letter = (reason: string, stage = "2:map", line?: number): EventOf<"dead.letter"> => ({
  kind: "dead.letter",
  ts: 1000 + (line ?? 0),
  runId: "r2",
  pipeline: "p",
  stage,
  reason,
  attempts: 1,
  position: line === undefined ? {} : { line },
  raw: line === undefined ? undefined : `row ${line}`,
});

describe("dead-letter reasons", () => {
  it("normalises the values a reason quotes, keeping stage names", () => {
    expect(normaliseReason("2:map threw: no price for order 1234")).toBe(
      "2:map threw: no price for order <n>",
    );
    expect(normaliseReason('expected 3 fields but found 2; quote fields that contain ","')).toBe(
      'expected <n> fields but found <n>; quote fields that contain "…"',
    );
    expect(normaliseReason("user 3f2a9c1e-77aa-4b1c failed at 1.5e3")).toBe("user <id> failed at <n>");
  });

  it("gives the same group for a reason seen again, also after more distinct reasons than it remembers", () => {
    const first = normaliseReason("schema: amount: expected number, received 'abc' at row 7");
    for (let i = 0; i < 5000; i++) {
      expect(normaliseReason(`no price for order ${i}`)).toBe("no price for order <n>");
    }
    expect(normaliseReason("schema: amount: expected number, received 'abc' at row 7")).toBe(first);
    expect(first).toBe('schema: amount: expected number, received "…" at row <n>');
  });

  it("groups the same error on different rows into one group, with first, last and a sample", () => {
    const letters = [3, 9, 5].map((line, index) => ({
      index,
      status: "dead" as const,
      event: letter(`schema: amount: bad value at row ${line}`, "source", line),
      original: letter("x"),
      redrives: 0,
    }));
    const groups = groupLetters(letters);
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({
      stage: "source",
      reason: "schema: amount: bad value at row <n>",
      count: 3,
      first: { line: 3 },
      last: { line: 5 },
      sample: "row 3",
    });
  });

  it("raises newDeadLetterReason once per new reason when earlier runs had others, never without history", () => {
    const raised: SluiceEvent[] = [];
    const engine = new AlertEngine({ emit: (e) => raised.push(e) });
    const past: RunFigures[] = [
      {
        runId: "r1",
        status: "completed",
        endedAt: 0,
        runtime: "node",
        host: "h",
        definitionHash: "x",
        rowsIn: 1,
        rowsOut: 0,
        deadLettered: 1,
        durationMs: 1,
        rowsPerS: 1,
        peakRssBytes: null,
        deadLetterReasons: ["2:map|2:map threw: known <n>"],
      },
    ];
    engine.setKnownReasons("r2", knownReasons(past, "r2"));
    engine.observe(letter("2:map threw: known 7"));
    expect(raised).toEqual([]);
    engine.observe(letter("2:map threw: new trouble 1"));
    engine.observe(letter("2:map threw: new trouble 2"));
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({
      kind: "alert.raised",
      rule: "newDeadLetterReason",
      severity: "warning",
      stage: "2:map",
    });
    expect((raised[0] as EventOf<"alert.raised">).message).toContain("2:map threw: new trouble <n>");
    expect(engine.active("r2")[0]).toMatchObject({ rule: "newDeadLetterReason", value: 2 });

    const first = new AlertEngine({ emit: (e) => raised.push(e) });
    first.setKnownReasons("r9", knownReasons([], "r9"));
    first.observe({ ...letter("anything 1"), runId: "r9" });
    expect(raised).toHaveLength(1);
  });
});
