import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  Bloom,
  decodeKey,
  encodeKey,
  hash2,
  hashKey,
  hashStateKey,
  type StateKey,
} from "../../../src/operators/internal/state/bloom.ts";
import { type KeySetToken, SpillingKeySet } from "../../../src/operators/internal/state/key-set.ts";
import { VirtualClock } from "../../../src/testing/virtual-clock.ts";

const root = mkdtempSync(join(tmpdir(), "sluice-keyset-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const dir = () => join(root, `s${n++}`);

describe("state keys", () => {
  it("encode every key type apart and back", () => {
    const keys: StateKey[] = ["1", 1, true, false, 1n, null, undefined, "", "s", "é\n,", -0.5];
    const enc = keys.map(encodeKey);
    expect(new Set(enc).size).toBe(keys.length);
    expect(enc.map(decodeKey)).toEqual(keys);
  });

  it("the Bloom filter never forgets a key and rarely claims one it never saw", () => {
    const b = Bloom.forKeys(10_000);
    for (let i = 0; i < 10_000; i++) b.add(hashKey(`k${i}`), hash2);
    for (let i = 0; i < 10_000; i++) expect(b.has(hashKey(`k${i}`), hash2)).toBe(true);
    let claimed = 0;
    for (let i = 0; i < 10_000; i++) if (b.has(hashKey(`x${i}`), hash2)) claimed++;
    expect(claimed).toBeLessThan(300); // ~1% expected
  });
});

describe("SpillingKeySet", () => {
  it("answers as a Set does across spills, and a restore returns to any committed checkpoint", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 60 }), fc.string({ maxLength: 3 })), { maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.nat(), { minLength: 3, maxLength: 12 }),
        async (keys, memoryKeys, cuts) => {
          const clock = new VirtualClock(0);
          const d = dir();
          const open = () => SpillingKeySet.open({ dir: d, memoryKeys, expectedKeys: 1000, clock });
          const s = await open();
          const model = new Set<StateKey>();
          const tokens: Array<{ token: KeySetToken; model: Set<StateKey> }> = [];
          const cutAt = new Set(cuts.map((c) => c % (keys.length + 1)));
          for (let i = 0; i < keys.length; i++) {
            if (cutAt.has(i)) tokens.push({ token: await s.checkpoint(), model: new Set(model) });
            const k = keys[i];
            expect(s.has(k)).toBe(model.has(k));
            if (!model.has(k)) {
              s.add(k);
              model.add(k);
            }
            if (s.wantsSpill) await s.spill();
          }
          expect(s.size).toBe(model.size);
          // A crash: a new instance on the same directory goes back to a checkpoint.
          await s.close();
          if (tokens.length === 0) return;
          const pick = tokens[cuts[0] % tokens.length];
          const r = await open();
          await r.restore(pick.token);
          for (const k of [...keys, "never", 999]) expect(r.has(k)).toBe(pick.model.has(k));
          expect(r.size).toBe(pick.model.size);
          // ...and goes on from there: a later checkpoint and restore still agree.
          r.add("after");
          const t2 = await r.checkpoint();
          await r.close();
          const r2 = await open();
          await r2.restore(t2);
          expect(r2.has("after")).toBe(true);
          for (const k of keys) expect(r2.has(k)).toBe(pick.model.has(k));
          await r2.close();
        },
      ),
      { numRuns: 60 },
    );
  });

  it("checkpoints write only what changed; a restore reads only its files", async () => {
    const d = dir();
    const open = () =>
      SpillingKeySet.open({ dir: d, memoryKeys: 10_000, expectedKeys: 100_000, clock: new VirtualClock(0) });
    const s = await open();
    for (let i = 0; i < 25_000; i++) {
      s.add(`key-${i}`);
      if (s.wantsSpill) await s.spill();
      if (i % 5000 === 4999) await s.checkpoint();
    }
    const t = await s.checkpoint();
    expect(t.runs).toEqual(["run-0.keys", "run-1.keys"]);
    expect(JSON.stringify(t).length).toBeLessThan(200);
    // Each key is in one log line once, not once per checkpoint.
    const logs = readdirSync(d).filter((f) => f.startsWith("log-"));
    const logBytes = logs.reduce((a, f) => a + statSync(join(d, f)).size, 0);
    expect(logBytes).toBeLessThan(25_000 * 14);
    // Writes after the checkpoint (a spill, a log tail) are dropped by restore.
    for (let i = 25_000; i < 40_000; i++) {
      s.add(`key-${i}`);
      if (s.wantsSpill) await s.spill();
    }
    await s.checkpoint();
    await s.close();
    const r = await open();
    await r.restore(t);
    expect(readdirSync(d).sort()).toEqual(["bloom.bin", "log-2.ndjson", "run-0.keys", "run-1.keys"]);
    expect(r.size).toBe(25_000);
    expect(r.has("key-24999")).toBe(true);
    expect(r.has("key-25000")).toBe(false);
    await r.close();
  });

  it("says what to do when the state a checkpoint names is gone", async () => {
    const d = dir();
    const open = () =>
      SpillingKeySet.open({ dir: d, memoryKeys: 2, expectedKeys: 100, clock: new VirtualClock(0) });
    const s = await open();
    for (const k of ["a", "b", "c"]) {
      s.add(k);
      if (s.wantsSpill) await s.spill();
    }
    const t = await s.checkpoint();
    await s.close();
    rmSync(join(d, "run-0.keys"));
    await expect((await open()).restore(t)).rejects.toThrow(
      /cannot resume: the state file .*run-0.keys is missing/,
    );
    rmSync(d, { recursive: true });
    await expect((await open()).restore(t)).rejects.toMatchObject({ _tag: "StateError", hint: /--fresh/ });
  });

  it("forgets keys after the TTL, on the injected clock, in memory and on disk", async () => {
    const clock = new VirtualClock(1_000);
    const d = dir();
    const open = () =>
      SpillingKeySet.open({ dir: d, memoryKeys: 2, expectedKeys: 100, ttlMs: 60_000, clock });
    const s = await open();
    s.now = clock.now();
    s.add("a");
    s.add("b");
    await s.spill(); // a, b on disk
    s.add("c"); // in memory
    await clock.advance(30_000);
    s.now = clock.now();
    expect([s.has("a"), s.has("c")]).toEqual([true, true]);
    s.add("d");
    await clock.advance(30_001);
    s.now = clock.now();
    expect([s.has("a"), s.has("b"), s.has("c"), s.has("d")]).toEqual([false, false, false, true]);
    s.add("a"); // seen again after expiring: remembered anew
    const t = await s.checkpoint();
    await s.close();
    // The times survive a restore: "a" and "d" are young, "b" and "c" expired.
    const r = await open();
    await r.restore(t);
    r.now = clock.now();
    expect([r.has("a"), r.has("b"), r.has("c"), r.has("d")]).toEqual([true, false, false, true]);
    await clock.advance(60_000);
    r.now = clock.now();
    expect([r.has("a"), r.has("d")]).toEqual([false, false]);
    await r.close();
  });
});

describe("SpillingKeySet formats", () => {
  it("hashes a string key as its encoding hashes", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.integer(), fc.constant(null)),
        (k) => {
          const h1 = hashKey(encodeKey(k));
          const h2 = hash2;
          expect([hashStateKey(k), hash2]).toEqual([h1, h2]);
        },
      ),
    );
  });

  it("spills keys that need escaping or are not ASCII, and finds them after a restore", async () => {
    const d = dir();
    const open = () =>
      SpillingKeySet.open({ dir: d, memoryKeys: 50, expectedKeys: 1000, clock: new VirtualClock(0) });
    const s = await open();
    const keys: StateKey[] = [];
    for (let i = 0; i < 120; i++) keys.push(i % 3 === 0 ? `é"\\${i}\n` : i % 3 === 1 ? `k${i}` : i);
    keys.splice(10, 0, "\ud800", "💧");
    for (const k of keys) {
      expect(s.addIfAbsent(k)).toBe(true);
      expect(s.addIfAbsent(k)).toBe(false);
      if (s.wantsSpill) await s.spill();
    }
    const t = await s.checkpoint();
    expect(t.v).toBe(2);
    await s.close();
    const r = await open();
    await r.restore(t);
    for (const k of keys) expect(r.has(k)).toBe(true);
    expect(r.has("k0")).toBe(false);
    await r.close();
  });

  it("resumes a checkpoint of an older sluice (classic filter, v1) and keeps its filter", async () => {
    const d = dir();
    const open = () =>
      SpillingKeySet.open({ dir: d, memoryKeys: 100, expectedKeys: 1000, clock: new VirtualClock(0) });
    const s = await open();
    for (let i = 0; i < 250; i++) {
      s.add(`key-${i}`);
      if (s.wantsSpill) await s.spill();
    }
    const t = await s.checkpoint();
    await s.close();
    // The filter as the older sluice wrote it: unblocked, ~10 bits a key.
    const classic = new Bloom(Math.ceil(1024 * 9.6));
    for (let i = 0; i < 200; i++) classic.add(hashKey(encodeKey(`key-${i}`)), hash2);
    writeFileSync(join(d, "bloom.bin"), new Uint8Array(classic.words.buffer));
    const r = await open();
    await r.restore({ ...t, v: 1 });
    for (let i = 0; i < 250; i++) expect(r.has(`key-${i}`)).toBe(true);
    expect(r.has("key-250")).toBe(false);
    for (let i = 250; i < 400; i++) {
      r.add(`key-${i}`);
      if (r.wantsSpill) await r.spill();
    }
    const t2 = await r.checkpoint();
    expect(t2.v).toBe(1);
    await r.close();
    const r2 = await open();
    await r2.restore(t2);
    for (let i = 0; i < 400; i += 7) expect(r2.has(`key-${i}`)).toBe(true);
    await r2.close();
    await expect((await open()).restore({ ...t2, v: 3 as 2 })).rejects.toThrow(/newer sluice/);
  });
});
