/**
 * Flip every bit of a sample of records (frame header: length, payload CRC,
 * header CRC; and payload) and of segment headers. Every flip must be caught:
 * reported as corruption, trimmed as a torn tail (only the very last record),
 * or refused as a newer version; never returned as a different record.
 */
import { mkdirSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JournalCorruptionError, JournalVersionError, openJournal } from "../../src/journal/index.ts";
import {
  collect,
  event,
  noSyncFs,
  readSegment,
  segmentNames,
  tempDir,
  writeSegment,
} from "../journal/helpers.ts";

const SEGMENT_SIZE = 800;
let root: { dir: string; cleanup(): void };
beforeAll(() => {
  root = tempDir("sluice-flip-");
});
afterAll(() => root.cleanup());

interface Outcome {
  values: unknown[];
  corruptions: JournalCorruptionError[];
  trimmed: number;
  version: boolean;
}

async function reopen(dir: string, files: Map<string, Uint8Array>): Promise<Outcome> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [name, bytes] of files) writeSegment(dir, name, bytes);
  let j: Awaited<ReturnType<typeof openJournal>>;
  try {
    j = await openJournal(dir, { segmentSize: SEGMENT_SIZE, fs: noSyncFs });
  } catch (e) {
    if (e instanceof JournalVersionError) return { values: [], corruptions: [], trimmed: 0, version: true };
    throw e;
  }
  const corruptions: JournalCorruptionError[] = [];
  const values = (await collect(j.read(undefined, { onCorruption: (e) => corruptions.push(e) }))).map(
    (r) => r.value,
  );
  await j.close();
  return { values, corruptions, trimmed: j.recovery.trimmedBytes, version: false };
}

describe("bit flips", () => {
  it("detects every single-bit flip in sampled records and segment headers", async () => {
    const src = `${root.dir}/src`;
    const dir = `${root.dir}/work`;
    const j = await openJournal(src, { segmentSize: SEGMENT_SIZE });
    const originals = Array.from({ length: 10 }, (_, i) => event(i, 150 + i * 7));
    const positions = originals.map((v) => j.append(v));
    await j.close();
    const names = segmentNames(src);
    expect(names.length).toBeGreaterThanOrEqual(3);
    const files = new Map(names.map((n) => [n, readSegment(src, n)]));
    const name = (base: number) => `${String(base).padStart(20, "0")}.seg`;
    const lastBase = positions[positions.length - 1].segment;

    // Frames: the first record, a middle one, the last of a sealed segment, and the very last record.
    const sample = new Set([
      0,
      4,
      positions.findIndex((p) => p.segment === lastBase) - 1,
      positions.length - 1,
    ]);
    const targets: Array<{ file: string; from: number; to: number; record?: number }> = [];
    for (const i of sample) {
      const file = name(positions[i].segment);
      const next = positions[i + 1];
      const to = next && next.segment === positions[i].segment ? next.offset : files.get(file)!.length;
      targets.push({ file, from: positions[i].offset, to, record: i });
    }
    // Segment headers: a sealed segment and the last one.
    targets.push({ file: names[1], from: 0, to: 24 }, { file: name(lastBase), from: 0, to: 24 });

    let flips = 0;
    for (const t of targets) {
      const clean = files.get(t.file)!;
      for (let byte = t.from; byte < t.to; byte++) {
        for (let bit = 0; bit < 8; bit++) {
          const damaged = clean.slice();
          damaged[byte] ^= 1 << bit;
          const out = await reopen(dir, new Map(files).set(t.file, damaged));
          flips++;
          const where = `${t.file} byte ${byte} bit ${bit}`;
          // Nothing that comes back differs from what was written, in order.
          let k = 0;
          for (const v of out.values) {
            while (k < originals.length && JSON.stringify(originals[k]) !== JSON.stringify(v)) k++;
            expect(k, `${where}: returned a record that was never written`).toBeLessThan(originals.length);
            k++;
          }
          const detected = out.version || out.corruptions.length > 0 || out.trimmed > 0;
          expect(detected, `${where}: flip went unnoticed`).toBe(true);
          if (t.record !== undefined) {
            expect(out.values, `${where}: damaged record returned`).not.toContainEqual(originals[t.record]);
            if (t.record !== originals.length - 1) {
              // Mid-journal damage is reported and reading resynchronises: every other record survives.
              expect(out.corruptions.length, where).toBeGreaterThan(0);
              expect(out.values).toEqual(originals.filter((_, i) => i !== t.record));
              expect(out.corruptions[0].file.endsWith(t.file)).toBe(true);
              expect(out.corruptions[0].offset).toBe(t.from);
            }
          }
        }
      }
    }
    expect(flips).toBeGreaterThan(5000);
  });
});
