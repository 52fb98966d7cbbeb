import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JournalCorruptionError, openJournal } from "../../src/journal/index.ts";
import { collect, event, readSegment, segmentNames, tempDir, writeSegment } from "./helpers.ts";

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

async function journalOf(count: number, segmentSize = 1000) {
  const j = await openJournal(dir, { segmentSize });
  const positions = Array.from({ length: count }, (_, i) => j.append(event(i)));
  await j.close();
  return positions;
}

describe("corruption reporting", () => {
  it("read() throws a JournalCorruptionError naming the file and offset; onCorruption skips it", async () => {
    const positions = await journalOf(12);
    const victim = positions[2];
    const name = `${String(victim.segment).padStart(20, "0")}.seg`;
    const bytes = readSegment(dir, name);
    bytes[victim.offset + 40] ^= 0xff; // inside the payload
    writeSegment(dir, name, bytes);

    const j = await openJournal(dir, { segmentSize: 1000 });
    expect(j.recovery.corruptions).toEqual([]); // a sealed segment is not scanned at open
    const seen: number[] = [];
    const failure = await (async () => {
      for await (const r of j.read()) seen.push((r.value as { seq: number }).seq);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([0, 1]);
    expect(failure).toBeInstanceOf(JournalCorruptionError);
    const err = failure as JournalCorruptionError;
    expect(err._tag).toBe("JournalCorruptionError");
    expect(err.file).toBe(join(dir, name));
    expect(err.offset).toBe(victim.offset);
    expect(err.resumed).toBe(true);
    expect(err.message).toContain(
      `${name} is corrupt at byte offset ${victim.offset}: payload CRC32C mismatch`,
    );

    const reported: JournalCorruptionError[] = [];
    const values = (await collect(j.read(undefined, { onCorruption: (e) => reported.push(e) }))).map(
      (r) => (r.value as { seq: number }).seq,
    );
    expect(values).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(reported).toHaveLength(1);
    await expect(j.lastMatching((v) => (v as { seq: number }).seq === 1)).rejects.toBeInstanceOf(
      JournalCorruptionError,
    );
    await j.close();
  });

  it("reports mid-file damage in the last segment at open, keeps the records after it, and appends", async () => {
    const positions = await journalOf(4, 1 << 20);
    const name = segmentNames(dir)[0];
    const bytes = readSegment(dir, name);
    bytes[positions[1].offset] ^= 0x01; // length field of the second record
    writeSegment(dir, name, bytes);
    const j = await openJournal(dir);
    expect(j.recovery.trimmedBytes).toBe(0);
    expect(j.recovery.corruptions).toHaveLength(1);
    expect(j.recovery.corruptions[0].offset).toBe(positions[1].offset);
    expect(j.recovery.corruptions[0].message).toMatch(/frame header check failed/);
    j.append(event(4));
    const values = await collect(j.read(undefined, { onCorruption: () => {} }));
    expect(values.map((r) => (r.value as { seq: number }).seq)).toEqual([0, 2, 3, 4]);
    await j.close();
  });

  it("reports a missing sealed segment as a gap instead of reading across it silently", async () => {
    await journalOf(15);
    const names = segmentNames(dir);
    expect(names.length).toBeGreaterThanOrEqual(3);
    rmSync(join(dir, names[1]));
    const j = await openJournal(dir, { segmentSize: 1000 });
    expect(j.recovery.corruptions.map((e) => e.reason)).toEqual([
      expect.stringMatching(/next segment starts at \d+ \(bytes missing or added\)/),
    ]);
    await expect(collect(j.read())).rejects.toThrow(/bytes missing or added/);
    const reported: JournalCorruptionError[] = [];
    const values = await collect(j.read(undefined, { onCorruption: (e) => reported.push(e) }));
    expect(reported).toHaveLength(1);
    expect(values.length).toBeLessThan(15);
    await j.close();
  });
});

describe("segment summaries (<base>.idx)", () => {
  async function manySegments() {
    const j = await openJournal(dir, { segmentSize: 600 });
    j.append({ kind: "checkpoint", id: 1 });
    j.append({ kind: "checkpoint", id: 2 });
    for (let i = 0; i < 60; i++) j.append(event(i, 150));
    await j.close();
    return segmentNames(dir);
  }

  it("are written for sealed segments and used by lastOfKind; a damaged or stale one falls back to a scan", async () => {
    const names = await manySegments();
    const { readdirSync, writeFileSync } = await import("node:fs");
    const idx = readdirSync(dir).filter((n) => n.endsWith(".idx"));
    expect(idx).toHaveLength(names.length - 1); // every sealed segment, not the active one
    const j = await openJournal(dir, { segmentSize: 600 });
    expect((await j.lastOfKind("checkpoint"))?.value).toEqual({ kind: "checkpoint", id: 2 });
    expect((await j.lastOfKind("ChunkDone"))?.value).toMatchObject({ seq: 58 });
    await j.close();

    // A summary that lies (points into the middle of a record) or is garbage must not be believed.
    const first = idx[0];
    writeFileSync(join(dir, first), new Uint8Array([1, 2, 3]));
    const again = await openJournal(dir, { segmentSize: 600 });
    expect((await again.lastOfKind("checkpoint"))?.value).toEqual({ kind: "checkpoint", id: 2 });
    await again.close();
  });

  it("a summary pointing at the wrong record is verified and ignored", async () => {
    await manySegments();
    const { encodeSummary } = await import("../../src/journal/internal/segment-index.ts");
    const name = "00000000000000000000";
    const size = readSegment(dir, `${name}.seg`).length;
    // Claims the first record (id 1) is the last checkpoint: it verifies as a checkpoint, so test a wrong offset instead.
    writeSegment(dir, `${name}.idx`, encodeSummary({ size, kinds: new Map([["checkpoint", 25]]) }));
    const j = await openJournal(dir, { segmentSize: 600 });
    expect((await j.lastOfKind("checkpoint"))?.value).toEqual({ kind: "checkpoint", id: 2 });
    await j.close();
  });
});
