import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type JournalClock,
  JournalClosedError,
  JournalEncodeError,
  JournalOpenError,
  JournalOptionsError,
  JournalPositionError,
  JournalVersionError,
  openJournal,
} from "../../src/journal/index.ts";
import { crc32c } from "../../src/journal/internal/crc32c.ts";
import {
  collect,
  event,
  instrumentedFs,
  readSegment,
  segmentNames,
  tempDir,
  writeSegment,
} from "./helpers.ts";

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

describe("crc32c", () => {
  it("matches the Castagnoli check value and is incremental", () => {
    const bytes = new TextEncoder().encode("123456789");
    expect(crc32c(bytes)).toBe(0xe3069283);
    expect(crc32c(bytes, 4, 9, crc32c(bytes, 0, 4))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
  });
});

describe("openJournal / append / read", () => {
  it("round-trips records with their positions and continues after reopen", async () => {
    const j = await openJournal(dir);
    const positions = [0, 1, 2].map((i) => j.append(event(i)));
    expect(positions[0]).toEqual({ segment: 0, offset: 24 });
    await j.sync();
    const records = await collect(j.read());
    expect(records.map((r) => r.value)).toEqual([event(0), event(1), event(2)]);
    expect(records.map((r) => r.position)).toEqual(positions);
    expect(records[0].next).toEqual(positions[1]);
    const end = j.end;
    await j.close();

    const again = await openJournal(dir);
    expect(again.recovery).toEqual({ trimmedBytes: 0, corruptions: [], segments: 1 });
    expect(again.end).toEqual(end);
    expect(again.append(event(3))).toEqual(end);
    expect((await collect(again.read())).map((r) => r.value)).toEqual([0, 1, 2, 3].map((i) => event(i)));
    await again.close();
  });

  it("reads from a position, from the end, and refuses positions that are not in the journal", async () => {
    const j = await openJournal(dir, { segmentSize: 1024 });
    const positions = Array.from({ length: 12 }, (_, i) => j.append(event(i)));
    const fromFifth = await collect(j.read(positions[4]));
    expect(fromFifth.map((r) => (r.value as { seq: number }).seq)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    const last = fromFifth[fromFifth.length - 1];
    expect(await collect(j.read(last.next))).toEqual([]);
    expect(await collect(j.read(j.end))).toEqual([]);
    await expect(collect(j.read({ segment: 7, offset: 24 }))).rejects.toBeInstanceOf(JournalPositionError);
    await expect(collect(j.read({ segment: 0, offset: 3 }))).rejects.toThrow(
      /after the 24-byte segment header/,
    );
    await j.close();
  });

  it("makes unsynced appends visible to readers (they flush first)", async () => {
    const j = await openJournal(dir);
    j.append({ kind: "A" });
    expect(j.backlogBytes).toBeGreaterThan(0);
    expect((await collect(j.read())).map((r) => r.value)).toEqual([{ kind: "A" }]);
    expect(j.backlogBytes).toBe(0);
    await j.close();
  });

  it("keeps binary, dates, nested values and empty containers", async () => {
    const j = await openJournal(dir);
    const values = [
      {},
      [],
      "",
      0,
      null,
      true,
      -1.5,
      { bin: new Uint8Array([1, 2, 3]), at: new Date(1_700_000_000_000) },
    ];
    for (const v of values) j.append(v);
    expect((await collect(j.read())).map((r) => r.value)).toEqual(values);
    await j.close();
  });

  it("rejects a value MessagePack cannot encode and stays usable", async () => {
    const j = await openJournal(dir);
    expect(() => j.append({ n: 1n })).toThrow(JournalEncodeError);
    expect(() => j.append({ f: () => 1 })).toThrow(/MessagePack-serialisable/);
    j.append({ ok: true });
    expect((await collect(j.read())).map((r) => r.value)).toEqual([{ ok: true }]);
    await j.close();
  });

  it("throws JournalClosedError after close, and close is idempotent", async () => {
    const j = await openJournal(dir);
    await j.close();
    await j.close();
    expect(() => j.append({})).toThrow(JournalClosedError);
    await expect(j.sync()).rejects.toBeInstanceOf(JournalClosedError);
    await expect(collect(j.read())).rejects.toBeInstanceOf(JournalClosedError);
  });

  it("wraps file-system failures at open in a JournalOpenError", async () => {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(`${dir}-file`, "x");
    const err = await openJournal(join(`${dir}-file`, "journal")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JournalOpenError);
    expect((err as Error).message).toMatch(/Could not open the journal in .*-file.*(ENOTDIR|EEXIST)/);
  });

  it("validates options with actionable messages", async () => {
    await expect(openJournal(dir, { segmentSize: "lots" })).rejects.toBeInstanceOf(JournalOptionsError);
    await expect(openJournal(dir, { segmentSize: 10 })).rejects.toThrow(/segmentSize.*too small/);
    // @ts-expect-error: not a policy
    await expect(openJournal(dir, { fsync: "sometimes" })).rejects.toThrow(
      /"always", "checkpoint", "interval"/,
    );
    const j = await openJournal(dir, {
      segmentSize: "4KiB",
      writeBufferSize: "1KiB",
      fsyncInterval: "250ms",
    });
    await j.close();
  });
});

describe("segments", () => {
  it("rotates at the nominal size, names segments by byte base, and puts an oversized record alone", async () => {
    const j = await openJournal(dir, { segmentSize: 1000 });
    for (let i = 0; i < 10; i++) j.append(event(i));
    j.append({ kind: "Big", blob: new Uint8Array(5000) });
    j.append(event(10));
    await j.close();
    const names = segmentNames(dir);
    expect(names.length).toBeGreaterThan(3);
    let base = 0;
    for (const name of names) {
      expect(name).toBe(`${String(base).padStart(20, "0")}.seg`);
      const size = statSync(join(dir, name)).size;
      base += size;
    }
    const sizes = names.map((n) => statSync(join(dir, n)).size);
    const oversized = sizes.filter((s) => s > 1000);
    expect(oversized).toHaveLength(1);
    expect(oversized[0]).toBe(24 + 12 + 5000 + 3 + 4 + 3 + 4 + 2 + 1 + 1); // header + frame + msgpack map overhead

    const again = await openJournal(dir, { segmentSize: 1000 });
    const values = (await collect(again.read())).map((r) => r.value);
    expect(values).toHaveLength(12);
    expect(values[10]).toEqual({ kind: "Big", blob: new Uint8Array(5000) });
    await again.close();
  });

  it("creates the directory 0700 and segment files 0600", async () => {
    const nested = join(dir, "orders", "run-1", "journal");
    const j = await openJournal(nested, { segmentSize: 200 });
    for (let i = 0; i < 5; i++) j.append(event(i));
    await j.close();
    expect(statSync(nested).mode & 0o777).toBe(0o700);
    expect(statSync(dirname(nested)).mode & 0o777).toBe(0o700);
    const names = segmentNames(nested);
    expect(names.length).toBeGreaterThan(1);
    for (const n of names) expect(statSync(join(nested, n)).mode & 0o777).toBe(0o600);
  });

  it("refuses a journal written by a newer format version and leaves it untouched", async () => {
    const j = await openJournal(dir, { segmentSize: 300 });
    for (let i = 0; i < 4; i++) j.append(event(i));
    await j.close();
    const names = segmentNames(dir);
    const first = readSegment(dir, names[0]);
    first[8] = 2; // format version, little-endian u16 at byte 8
    writeSegment(dir, names[0], first);
    const before = names.map((n) => readSegment(dir, n));
    const opening = openJournal(dir);
    await expect(opening).rejects.toBeInstanceOf(JournalVersionError);
    await expect(opening).rejects.toThrow(/format version 2 .*reads versions up to 1.*Upgrade sluice/);
    expect(names.map((n) => readSegment(dir, n))).toEqual(before);
  });
});

describe("lastOfKind / lastMatching", () => {
  it("finds the newest record of a kind, ignoring nested look-alikes", async () => {
    const j = await openJournal(dir, { segmentSize: 600 });
    j.append({ kind: "Checkpoint", id: 1 });
    for (let i = 0; i < 20; i++) j.append({ kind: "ChunkDone", seq: i, pad: "y".repeat(100) });
    j.append({ kind: "Checkpoint", id: 2 });
    j.append({ kind: "Other", nested: { kind: "Checkpoint", id: 99 }, note: "kind Checkpoint" });
    for (let i = 0; i < 20; i++) j.append({ kind: "ChunkDone", seq: i, pad: "y".repeat(100) });
    const found = await j.lastOfKind("Checkpoint");
    expect(found?.value).toEqual({ kind: "Checkpoint", id: 2 });
    expect(await j.lastOfKind("Missing")).toBeUndefined();
    const long = "K".repeat(40); // str8, not fixstr
    j.append({ kind: long, x: 1 });
    expect((await j.lastOfKind(long))?.value).toEqual({ kind: long, x: 1 });
    const byPredicate = await j.lastMatching((v) => (v as { seq?: number }).seq === 3);
    expect(byPredicate?.value).toMatchObject({ kind: "ChunkDone", seq: 3 });
    expect(byPredicate && found && byPredicate.position.segment > found.position.segment).toBe(true);
    await j.close();
  });
});

describe("fsync policies and batching", () => {
  it("checkpoint: batches appends into large writes and fsyncs only on sync()", async () => {
    const { fs, counts } = instrumentedFs();
    const j = await openJournal(dir, { fs, writeBufferSize: "64KiB" });
    const base = { ...counts };
    for (let i = 0; i < 1000; i++) j.append(event(i));
    await j.flush();
    expect(counts.writes - base.writes).toBeLessThanOrEqual(5);
    expect(counts.datasyncs - base.datasyncs).toBe(0);
    await j.sync();
    expect(counts.datasyncs - base.datasyncs).toBe(1);
    await j.sync(); // nothing new: no fsync
    expect(counts.datasyncs - base.datasyncs).toBe(1);
    await j.close();
  });

  it("always: every awaited append is written and fsynced; a burst shares one fsync", async () => {
    const { fs, counts } = instrumentedFs();
    const j = await openJournal(dir, { fs, fsync: "always" });
    const base = { ...counts };
    for (let i = 0; i < 5; i++) {
      j.append(event(i));
      await j.sync();
    }
    expect(counts.writes - base.writes).toBe(5);
    expect(counts.datasyncs - base.datasyncs).toBe(5);
    for (let i = 0; i < 100; i++) j.append(event(i));
    await j.sync();
    expect(counts.datasyncs - base.datasyncs).toBeLessThanOrEqual(7);
    expect(counts.writes - base.writes).toBeLessThanOrEqual(7);
    await j.close();
  });

  it("interval: fsyncs on each tick of the injected clock, without sleeping", async () => {
    const ticks: Array<{ ms: number; fn: () => void }> = [];
    let stopped = 0;
    const clock: JournalClock = {
      every: (ms, fn) => {
        ticks.push({ ms, fn });
        return () => {
          stopped++;
        };
      },
    };
    const { fs, counts } = instrumentedFs();
    const j = await openJournal(dir, { fs, fsync: "interval", fsyncInterval: "250ms", clock });
    expect(ticks).toHaveLength(1);
    expect(ticks[0].ms).toBe(250);
    const base = counts.datasyncs;
    j.append(event(1));
    j.append(event(2));
    await j.flush();
    expect(counts.datasyncs).toBe(base);
    ticks[0].fn();
    await j.flush();
    expect(counts.datasyncs).toBe(base + 1);
    ticks[0].fn(); // nothing new: no fsync
    await j.flush();
    expect(counts.datasyncs).toBe(base + 1);
    j.append(event(3));
    ticks[0].fn();
    await j.flush();
    expect(counts.datasyncs).toBe(base + 2);
    await j.close();
    expect(stopped).toBe(1);
  });
});
