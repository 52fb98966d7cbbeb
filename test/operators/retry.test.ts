import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EventBus, pipeline, runPipeline, type SluiceEvent } from "../../src/index.ts";
import { map, retry, timeout } from "../../src/operators/index.ts";
import { collect } from "../../src/sinks/index.ts";
import { iterable } from "../../src/sources/index.ts";
import { VirtualClock } from "../../src/testing/virtual-clock.ts";
import { drive, harness, open, processChunk } from "./stage-harness.ts";

const home = mkdtempSync(join(tmpdir(), "sluice-retry-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** A stage failing each record for the number of attempts the script gives it. */
function scripted(failures: Record<string, number>) {
  const calls: Array<{ at: number; record: string }> = [];
  const made = (clock: VirtualClock) =>
    map((r: string) => {
      calls.push({ at: clock.now(), record: r });
      const left = failures[r] ?? 0;
      if (left > 0) {
        failures[r] = left - 1;
        throw new Error(`${r} failed`);
      }
      return r.toUpperCase();
    });
  return { calls, made };
}

describe("retry", () => {
  it("retries only the failed records, with exponential delays on the injected clock", async () => {
    const h = harness();
    const s = scripted({ b: 2, c: 99 });
    const st = await open(
      h,
      retry({ attempts: 3, backoff: "exponential", base: "100ms", max: "10s", jitter: 0 }, s.made(h.clock)),
    );
    const t0 = h.clock.now();
    const out = await drive(h.clock, processChunk(st, ["a", "b", "c", "d"]), 1);
    expect(out).toEqual(["A", "B", "D"]);
    const per = (r: string) => s.calls.filter((c) => c.record === r).map((c) => c.at - t0);
    expect(per("a")).toEqual([0]);
    expect(per("d")).toEqual([0]);
    expect(per("b")).toEqual([0, 100, 300]);
    expect(per("c")).toEqual([0, 100, 300]);
    const scheduled = h.eventsOf("retry.scheduled");
    expect(scheduled.map((e) => [e.attempt, e.delayMs])).toEqual([
      [2, 100],
      [3, 200],
    ]);
    expect(scheduled[0].error).toContain("b failed (and 1 more records)");
    expect(h.dead).toHaveLength(1);
    expect(h.dead[0]).toMatchObject({ record: "c", attempts: 3, position: { index: 2 } });
    expect(h.dead[0].reason).toContain("c failed");
  });

  it("uses fixed delays, caps them at max and applies injected jitter", async () => {
    const fixed = harness();
    const s1 = scripted({ x: 5 });
    const st1 = await open(
      fixed,
      retry({ attempts: 4, backoff: "fixed", base: 250, jitter: 0 }, s1.made(fixed.clock)),
    );
    await drive(fixed.clock, processChunk(st1, ["x"]), 1);
    expect(fixed.eventsOf("retry.scheduled").map((e) => e.delayMs)).toEqual([250, 250, 250]);

    const capped = harness();
    const s2 = scripted({ x: 5 });
    const st2 = await open(
      capped,
      retry({ attempts: 5, base: "1s", max: "3s", jitter: 0.5, random: () => 0.5 }, s2.made(capped.clock)),
    );
    await drive(capped.clock, processChunk(st2, ["x"]), 1);
    // 1000, 2000, 3000 (capped from 4000), 3000 (capped from 8000), each × (1 − 0.5 × 0.5)
    expect(capped.eventsOf("retry.scheduled").map((e) => e.delayMs)).toEqual([750, 1500, 2250, 2250]);
    expect(capped.dead[0].attempts).toBe(5);
  });

  it("does not retry what retryIf rejects", async () => {
    const h = harness();
    const st = await open(
      h,
      retry(
        { attempts: 5, retryIf: (e) => !(e instanceof Error && e.message.includes("fatal")) },
        map((r: string) => {
          throw new Error(`fatal ${r}`);
        }),
      ),
    );
    expect(await processChunk(st, ["a"])).toEqual([]);
    expect(h.eventsOf("retry.scheduled")).toHaveLength(0);
    expect(h.dead[0]).toMatchObject({ record: "a", attempts: 1 });
  });

  it("retries records that timed out", async () => {
    const h = harness();
    let slow = true;
    const st = await open(
      h,
      retry(
        { attempts: 2, base: "1s", jitter: 0 },
        timeout(
          "500ms",
          map(async (r: string) => {
            if (r === "s" && slow) {
              slow = false;
              await h.clock.sleep(10_000);
            }
            return r;
          }),
        ),
      ),
    );
    expect(await drive(h.clock, processChunk(st, ["a", "s", "b"]), 50)).toEqual(["a", "s", "b"]);
    const ev = h.eventsOf("retry.scheduled");
    expect(ev).toHaveLength(1);
    expect(ev[0].error).toContain("did not finish within 500 ms");
  });

  it("dead-letters exhausted records with stage, error, attempts and source position in a pipeline", async () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const bus = new EventBus();
    const events: SluiceEvent[] = [];
    bus.subscribe((e) => events.push(e));
    const out = collect<number>();
    const p = pipeline("retrying")
      .from(
        iterable(
          Array.from({ length: 50 }, (_, i) => i),
          { chunkSize: 10 },
        ),
      )
      .via(
        retry(
          { attempts: 3, base: "1s", jitter: 0 },
          map((n: number) => {
            if (n % 20 === 7) throw new Error(`cannot score ${n}`);
            return n;
          }),
        ),
      )
      .to(out);
    const s = await drive(clock, runPipeline(p, { home, clock, bus, sampleResources: false }), 100);
    expect(s.status).toBe("completed");
    expect(s.deadLettered).toBe(3);
    expect(s.rowsIn).toBe(s.rowsOut + s.deadLettered);
    expect(out.records).toHaveLength(47);
    const dl = readFileSync(s.deadLetterFile!, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(dl.map((d) => d.record)).toEqual([7, 27, 47]);
    expect(dl[1]).toMatchObject({
      kind: "dead.letter",
      stage: "1:retry.map",
      attempts: 3,
      position: { chunk: 2, index: 7 },
      record: 27,
    });
    expect(dl[1].reason).toContain("cannot score 27");
    expect(dl[1].error).toContain("cannot score 27");
    expect(events.filter((e) => e.kind === "retry.scheduled")).toHaveLength(6);
  });
});
