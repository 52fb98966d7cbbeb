import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { LoggedMap, type ValueLogToken } from "../../../src/operators/internal/state/value-log.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-valuelog-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dir = () => join(root, `m${n++}`);

describe("LoggedMap", () => {
  it("a restore returns to any committed checkpoint, in key order, through compactions", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.constantFrom("set", "set", "set", "delete", "checkpoint"),
            fc.integer({ min: 0, max: 30 }),
            fc.nat(1000),
          ),
          { maxLength: 400 },
        ),
        fc.nat(),
        async (ops, pickSeed) => {
          const d = dir();
          const m = await LoggedMap.open<number[]>(d, { compactFloor: 200 });
          const model = new Map<number, number[]>();
          const tokens: Array<{ token: ValueLogToken; entries: Array<[number, number[]]> }> = [];
          for (const [op, k, v] of ops) {
            if (op === "set") {
              m.set(k, [v, k]);
              model.set(k, [v, k]);
            } else if (op === "delete") {
              m.delete(k);
              model.delete(k);
            } else tokens.push({ token: await m.checkpoint(), entries: [...model] });
          }
          expect([...m.map]).toEqual([...model]);
          await m.close();
          if (tokens.length === 0) return;
          const pick = tokens[pickSeed % tokens.length];
          const r = await LoggedMap.open<number[]>(d, { compactFloor: 200 });
          await r.restore(pick.token);
          expect([...r.map]).toEqual(pick.entries);
          await r.close();
        },
      ),
      { numRuns: 80 },
    );
  });

  it("keeps its log within a small multiple of the state however many checkpoints", async () => {
    const d = dir();
    const m = await LoggedMap.open<number>(d, { compactFloor: 4096 });
    for (let cp = 0; cp < 500; cp++) {
      for (let k = 0; k < 50; k++) m.set(k, cp * k);
      await m.checkpoint();
    }
    const total = readdirSync(d).reduce((a, f) => a + statSync(join(d, f)).size, 0);
    const live = JSON.stringify([...m.map].map(([k, v]) => [`n${k}`, v])).length;
    // Without compaction: 500 checkpoints × the whole state. With it: every generation is kept
    // until the run ends, but each is at most ~4× the state past the floor.
    expect(total).toBeLessThan(500 * live);
    const last = readdirSync(d).sort().at(-1) as string;
    expect(statSync(join(d, last)).size).toBeLessThan(Math.max(4096, 4 * live) + 2 * live);
    await m.close();
  });
});
