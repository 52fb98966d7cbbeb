/**
 * A crash can leave the journal cut at any byte (or, on some file systems, with
 * the file length updated but zeros where the data should be). For every such
 * point in the last two records, and across a segment boundary, reopening must
 * give back exactly the complete records, and appending must work afterwards.
 */
import { mkdirSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JournalPosition, openJournal } from "../../src/journal/index.ts";
import {
  collect,
  event,
  noSyncFs,
  readSegment,
  segmentNames,
  tempDir,
  writeSegment,
} from "../journal/helpers.ts";

type Files = Map<string, Uint8Array>;

interface Written {
  files: Files;
  records: Array<{ value: unknown; position: JournalPosition; end: number }>;
}

const SEGMENT_SIZE = 1000;
let root: { dir: string; cleanup(): void };
beforeAll(() => {
  root = tempDir("sluice-torn-");
});
afterAll(() => root.cleanup());

async function build(dir: string, count: number, size: (i: number) => number): Promise<Written> {
  const j = await openJournal(dir, { segmentSize: SEGMENT_SIZE, fs: noSyncFs });
  const records: Written["records"] = [];
  for (let i = 0; i < count; i++) {
    const value = event(i, size(i));
    const position = j.append(value);
    records.push({ value, position, end: 0 });
  }
  await j.close();
  for (let i = 0; i < records.length; i++) {
    const next = records[i + 1]?.position;
    const r = records[i];
    r.end = next && next.segment === r.position.segment ? next.offset : -1;
  }
  const files: Files = new Map();
  for (const name of segmentNames(dir)) files.set(name, readSegment(dir, name));
  for (const r of records) if (r.end < 0) r.end = files.get(segName(r.position.segment))!.length;
  return { files, records };
}

const segName = (base: number) => `${String(base).padStart(20, "0")}.seg`;

function materialize(dir: string, files: Files): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [name, bytes] of files) writeSegment(dir, name, bytes);
}

/** Reopens a damaged copy and checks recovery, append and a second reopen. */
async function expectRecovers(dir: string, files: Files, expected: unknown[]): Promise<void> {
  materialize(dir, files);
  const j = await openJournal(dir, { segmentSize: SEGMENT_SIZE, fs: noSyncFs });
  expect(j.recovery.corruptions).toEqual([]);
  expect((await collect(j.read())).map((r) => r.value)).toEqual(expected);
  const marker = { kind: "AfterRecovery", n: expected.length };
  j.append(marker);
  await j.close();
  const again = await openJournal(dir, { segmentSize: SEGMENT_SIZE, fs: noSyncFs });
  expect(again.recovery.trimmedBytes).toBe(0);
  expect((await collect(again.read())).map((r) => r.value)).toEqual([...expected, marker]);
  await again.close();
}

function cut(bytes: Uint8Array, at: number, zeroFill: boolean): Uint8Array {
  if (!zeroFill) return bytes.slice(0, at);
  const copy = bytes.slice();
  copy.fill(0, at);
  return copy;
}

describe("torn writes", () => {
  for (const zeroFill of [false, true]) {
    const how = zeroFill ? "zero-filled" : "truncated";

    it(`recovers the complete records when the last segment is ${how} at every byte of its last two records`, async () => {
      const src = `${root.dir}/src-${how}`;
      const dir = `${root.dir}/work-last-${how}`;
      // Small records so the last segment holds several; the last two are 160 and 230 bytes.
      const w = await build(src, 14, (i) => (i === 13 ? 230 : 160));
      const lastBase = w.records[w.records.length - 1].position.segment;
      const lastName = segName(lastBase);
      const inLast = w.records.filter((r) => r.position.segment === lastBase);
      expect(inLast.length).toBeGreaterThanOrEqual(3);
      const bytes = w.files.get(lastName)!;
      const from = inLast[inLast.length - 2].position.offset;
      for (let at = from; at < bytes.length; at++) {
        const files = new Map(w.files).set(lastName, cut(bytes, at, zeroFill));
        const expected = w.records
          .filter((r) => r.position.segment !== lastBase || r.end <= at)
          .map((r) => r.value);
        await expectRecovers(dir, files, expected);
      }
    });

    it(`recovers across a segment boundary (${how}): last record of one segment, header and first record of the next`, async () => {
      const src = `${root.dir}/src-boundary-${how}`;
      const dir = `${root.dir}/work-boundary-${how}`;
      const w = await build(src, 12, () => 180);
      const lastBase = w.records[w.records.length - 1].position.segment;
      // Make the newest segment hold exactly one record: drop records after the first one in it.
      const firstInLast = w.records.findIndex((r) => r.position.segment === lastBase);
      const kept = w.records.slice(0, firstInLast + 1);
      const first = kept[firstInLast];
      const lastName = segName(lastBase);
      const fullLast = w.files.get(lastName)!.slice(0, first.end);
      const prev = kept[firstInLast - 1];
      const prevName = segName(prev.position.segment);
      const prevBytes = w.files.get(prevName)!;

      // 1. The crash hit while the previous segment's last record was being written (no next segment yet).
      for (let at = prev.position.offset; at <= prevBytes.length; at++) {
        const files = new Map(w.files);
        files.delete(lastName);
        files.set(prevName, cut(prevBytes, at, zeroFill));
        const expected = kept.slice(0, firstInLast - 1).map((r) => r.value);
        if (at === prevBytes.length) expected.push(prev.value);
        await expectRecovers(dir, files, expected);
      }
      // 2. The crash hit while the next segment was being created or its first record written.
      for (let at = 0; at < fullLast.length; at++) {
        const files = new Map(w.files).set(lastName, cut(fullLast, at, zeroFill));
        const expected = kept.slice(0, firstInLast).map((r) => r.value);
        await expectRecovers(dir, files, expected);
      }
    });
  }
});
