import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EventBus, type EventOf, pipeline, runPipeline, type SluiceEvent } from "../../src/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";

const home = mkdtempSync(join(tmpdir(), "sluice-bus-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const note = (n: number): SluiceEvent =>
  ({
    kind: "config.changed",
    ts: n,
    runId: "r",
    pipeline: "p",
    stage: "s",
    setting: "x",
    from: n,
    to: n,
    reason: `note ${n}`,
  }) satisfies EventOf<"config.changed">;

describe("EventBus.hold", () => {
  it("queues what is published while held and delivers `first`, then the queue, on release", () => {
    const bus = new EventBus();
    const seen: number[] = [];
    bus.subscribe((e) => seen.push(e.ts));
    bus.publish(note(1));
    const release = bus.hold();
    bus.publish(note(3));
    bus.publish(note(4));
    expect(seen).toEqual([1]);
    release(note(2));
    expect(seen).toEqual([1, 2, 3, 4]);
    release(note(99)); // a second call does nothing
    bus.publish(note(5));
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it("nests: events wait for the outermost release, each `first` at the point its hold began", () => {
    const bus = new EventBus();
    const seen: number[] = [];
    bus.subscribe((e) => seen.push(e.ts));
    const outer = bus.hold();
    bus.publish(note(2));
    const inner = bus.hold();
    bus.publish(note(4));
    inner(note(3));
    expect(seen).toEqual([]);
    outer(note(1));
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it("a run delivers events published while a checkpoint is made durable after that checkpoint", async () => {
    const bus = new EventBus();
    const kinds: string[] = [];
    bus.subscribe((e) => {
      if (e.kind === "checkpoint" || e.kind === "config.changed") kinds.push(e.kind);
    });
    let n = 0;
    const s = await runPipeline(
      pipeline("bus-hold", { checkpoint: { rows: 100 } })
        .from(
          iterable(
            Array.from({ length: 450 }, (_, i) => i),
            { chunkSize: 50 },
          ),
        )
        .to(collect()),
      {
        bus,
        home,
        onCheckpoint: async () => {
          // What a timer or another subscriber publishes while the journal syncs.
          bus.publish(note(++n));
          await new Promise<void>((r) => queueMicrotask(r));
        },
      },
    );
    expect(s.status).toBe("completed");
    expect(n).toBeGreaterThanOrEqual(4);
    expect(kinds).toEqual(Array.from({ length: n }, () => ["checkpoint", "config.changed"]).flat());
  });
});
