/**
 * Test helpers for runs stopped or crashed and resumed from a checkpoint: a
 * bus that keeps the checkpoints, a numbers source, a CSV with bad rows, and
 * what every checkpoint must hold.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { z } from "zod";
import { EventBus, type EventOf, type Pipeline, runPipeline } from "../../src/index.ts";
import { iterable } from "../../src/sources/index.ts";

/** A bus that keeps the run's checkpoint events. */
export function checkpointBus(): { bus: EventBus; cps: EventOf<"checkpoint">[] } {
  const bus = new EventBus();
  const cps: EventOf<"checkpoint">[] = [];
  bus.subscribe((e) => e.kind === "checkpoint" && cps.push(e));
  return { bus, cps };
}

/** 0 … n−1 in chunks of 10. */
export const numbers = (n: number) =>
  iterable(
    Array.from({ length: n }, (_, i) => i),
    { chunkSize: 10 },
  );

/** Runs `p` in `home`, resumed from checkpoint `cp`. */
export const resumeFrom = <A>(home: string, p: Pipeline<A>, cp: EventOf<"checkpoint">) =>
  runPipeline(p, { home, resume: { runId: cp.runId, checkpoint: cp }, sampleResources: false });

export const schema = z.object({ id: z.coerce.number(), amount: z.coerce.number() });
export type CsvRow = z.output<typeof schema>;

/**
 * `dir/name`: 40,000 rows (~1 MB: the CSV source reads it in many chunks),
 * every third with an amount that is not a number; `badBefore(line)` counts
 * the bad rows before input line `line`.
 */
export function badCsv(dir: string, name: string) {
  const file = join(dir, name);
  const rows = ["id,amount"];
  for (let i = 0; i < 40_000; i++) rows.push(i % 3 === 1 ? `${i},not-a-number` : `${i},${i}.5`);
  writeFileSync(file, `${rows.join("\n")}\n`);
  const isBad = (r: string) => r.endsWith("not-a-number");
  return {
    file,
    total: rows.length - 1,
    bad: rows.filter(isBad).length,
    badBefore: (line: number) => rows.slice(1, line - 1).filter(isBad).length,
  };
}

/** Every checkpoint holds as many dead letters as the file did then, and its figures add up. */
export function expectConsistent(cps: readonly EventOf<"checkpoint">[]): void {
  expect(cps.length).toBeGreaterThan(1);
  for (const cp of cps) {
    const file = cp.operatorState.$deadLetter as { count: number };
    expect(cp.deadLettered, `checkpoint ${cp.id}`).toBe(file.count);
    expect(cp.stageTotals.reduce((a, t) => a + t.deadLettered, 0)).toBe(cp.deadLettered);
    // Every record read up to the barrier, the source's letters included, is out, filtered or lettered.
    expect(cp.rowsIn, `checkpoint ${cp.id}`).toBe(cp.rowsOut + cp.filtered + cp.deadLettered);
  }
}
