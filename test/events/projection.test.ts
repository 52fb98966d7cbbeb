import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  EventBus,
  parseEvent,
  pipeline,
  projectRun,
  RunProjection,
  runPipeline,
  type SluiceEvent,
} from "../../src/index.ts";
import { filter, map } from "../../src/operators/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";

const home = mkdtempSync(join(tmpdir(), "sluice-proj-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("run projection", () => {
  it("the fold over a run's events equals the run's summary, live and replayed", async () => {
    const bus = new EventBus();
    const events: SluiceEvent[] = [];
    const live = new RunProjection();
    bus.subscribe((e) => {
      events.push(e);
      live.apply(e);
    });
    const p = pipeline("proj", { checkpoint: { rows: 300 } })
      .from(
        iterable(
          Array.from({ length: 3000 }, (_, i) => i),
          { chunkSize: 100 },
        ),
      )
      .via(
        map((n: number) => {
          if (n % 500 === 3) throw new Error("x");
          return n;
        }),
        filter((n: number) => n % 2 === 0),
      )
      .to(collect());
    const s = await runPipeline(p, { home, bus });
    // Every event is valid against the schema (as if read back from a journal).
    for (const e of events) parseEvent(JSON.parse(JSON.stringify(e)));
    const replayed = projectRun(events)!;
    for (const state of [live.get(s.runId)!, replayed]) {
      expect(state.status).toBe("completed");
      expect(state.rowsIn).toBe(s.rowsIn);
      expect(state.rowsOut).toBe(s.rowsOut);
      expect(state.filtered).toBe(s.filtered);
      expect(state.deadLettered).toBe(s.deadLettered);
      expect(state.stages.find((x) => x.stage === "1:map")).toMatchObject({ rowsIn: 3000, deadLettered: 6 });
      expect(state.lastCheckpoint?.id).toBe(s.checkpoints);
    }
  });
});
