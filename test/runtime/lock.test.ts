/** Run-directory locks: one holder at a time; a dead holder's lock is taken over. */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inspectLock, tryLock } from "../../src/runtime/lock.ts";

const dir = mkdtempSync(join(tmpdir(), "sluice-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const path = () => join(dir, `lock-${++n}`);

describe("run locks", () => {
  it("has one holder; release frees it", async () => {
    const p = path();
    expect(await inspectLock(p)).toEqual({ state: "free" });
    const a = await tryLock(p, 1);
    expect(a.ok).toBe(true);
    expect(await inspectLock(p)).toMatchObject({ state: "held", mine: true });
    const b = await tryLock(p, 2); // a second run in the same process is refused too
    expect(b).toMatchObject({ ok: false, holder: { pid: process.pid } });
    if (a.ok) await a.lock.release();
    expect(await inspectLock(p)).toEqual({ state: "free" });
  });

  it("takes over the lock of a dead process, of a dead namesake of this pid, and a damaged lock", async () => {
    for (const content of [
      { pid: 2 ** 22 + 17, host: hostname(), since: 0, token: "gone" }, // no such pid
      { pid: process.pid, host: hostname(), since: 0, token: "earlier-process" }, // pid reused
      "{not json",
    ]) {
      const p = path();
      writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content));
      expect((await inspectLock(p)).state).toBe("stale");
      const got = await tryLock(p, 1);
      expect(got.ok).toBe(true);
      expect(JSON.parse(readFileSync(p, "utf8")).pid).toBe(process.pid);
      if (got.ok) await got.lock.release();
    }
  });

  it("refuses while another live process holds it, naming it", async () => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"]);
    try {
      const p = path();
      writeFileSync(p, JSON.stringify({ pid: child.pid, host: hostname(), since: 0, token: "t" }));
      expect(await inspectLock(p)).toMatchObject({ state: "held", mine: false, holder: { pid: child.pid } });
      expect(await tryLock(p, 1)).toMatchObject({ ok: false, holder: { pid: child.pid } });
      child.kill("SIGKILL");
      await new Promise((r) => child.on("exit", r));
      expect((await tryLock(p, 1)).ok).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
