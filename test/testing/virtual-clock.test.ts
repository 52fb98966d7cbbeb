import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/testing/index.ts";

describe("VirtualClock", () => {
  it("fires sleeps and intervals in due order only when advanced", async () => {
    const clock = new VirtualClock(1000);
    const log: string[] = [];
    void clock.sleep(50).then(() => log.push(`sleep50@${clock.now()}`));
    void clock.sleep(20).then(() => log.push(`sleep20@${clock.now()}`));
    const stop = clock.every(30, () => log.push(`tick@${clock.now()}`));
    await clock.advance(10);
    expect(log).toEqual([]);
    await clock.advance(60);
    expect(log).toEqual(["sleep20@1020", "tick@1030", "sleep50@1050", "tick@1060"]);
    stop();
    await clock.advance(100);
    expect(log).toHaveLength(4);
    expect(clock.now()).toBe(1170);
  });

  it("rejects an aborted sleep", async () => {
    const clock = new VirtualClock();
    const ac = new AbortController();
    const p = clock.sleep(100, ac.signal);
    ac.abort(new Error("stop"));
    await expect(p).rejects.toThrow("stop");
    expect(clock.pending).toBe(0);
  });
});
