import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encode } from "@msgpack/msgpack";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openJournal } from "../../src/journal/index.ts";
import { encodeSegmentHeader, writeFrameHeader } from "../../src/journal/internal/format.ts";
import { collect, noSyncFs, tempDir } from "./helpers.ts";

let root: { dir: string; cleanup(): void };
let run = 0;
beforeAll(() => {
  root = tempDir("sluice-prop-");
});
afterAll(() => root.cleanup());

function freshDir(): string {
  const dir = join(root.dir, `p${run++}`);
  rmSync(dir, { recursive: true, force: true });
  return dir;
}

/** Values MessagePack round-trips exactly (no undefined, no -0, no NaN quirks). */
const msgpackValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.uint8Array({ maxLength: 64 }),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("value"), { maxKeys: 5 }),
  ),
})).value;

/** A record: small, or a blob from empty to several times the segment size. */
const record = fc.oneof(
  { arbitrary: msgpackValue, weight: 4 },
  {
    arbitrary: fc.record({
      kind: fc.constant("Blob"),
      data: fc.uint8Array({ minLength: 0, maxLength: 3000 }),
    }),
    weight: 1,
  },
);

describe("journal properties", () => {
  it("round-trips any sequence of records, through rotation and reopen", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { maxLength: 40 }),
        fc.integer({ min: 100, max: 1200 }),
        fc.integer({ min: 64, max: 2048 }),
        fc.boolean(),
        async (values, segmentSize, writeBufferSize, syncHalfway) => {
          const dir = freshDir();
          const options = { segmentSize, writeBufferSize, fs: noSyncFs };
          const j = await openJournal(dir, options);
          let pending: Promise<void> | undefined;
          values.forEach((v, i) => {
            j.append(v);
            if (syncHalfway && i === values.length >> 1) pending = j.sync();
          });
          await pending;
          expect((await collect(j.read())).map((r) => r.value)).toEqual(values);
          await j.close();
          const again = await openJournal(dir, options);
          expect(again.recovery.trimmedBytes).toBe(0);
          expect((await collect(again.read())).map((r) => r.value)).toEqual(values);
          await again.close();
        },
      ),
      { numRuns: 120 },
    );
  });

  it("never crashes or hangs on arbitrary bytes as a segment: records or a clear error", async () => {
    const withHeader = fc.uint8Array({ maxLength: 600 }).map((b) => {
      const out = new Uint8Array(24 + b.length);
      out.set(encodeSegmentHeader(0), 0);
      out.set(b, 24);
      return out;
    });
    // Good frames with some bytes overwritten, so resynchronisation paths run too.
    const damagedFrames = fc
      .tuple(
        fc.array(msgpackValue, { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      )
      .map(([values, edits]) => {
        const parts = [encodeSegmentHeader(0)];
        for (const v of values) {
          const payload = encode(v);
          const frame = new Uint8Array(12 + payload.length);
          writeFrameHeader(frame, 0, payload);
          frame.set(payload, 12);
          parts.push(frame);
        }
        const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const p of parts) {
          out.set(p, at);
          at += p.length;
        }
        for (const [pos, byte] of edits) out[24 + (pos % (out.length - 24))] = byte;
        return out;
      });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(withHeader, fc.uint8Array({ maxLength: 600 }), damagedFrames),
        fc.boolean(),
        async (bytes, second) => {
          const dir = freshDir();
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          // As the only segment (recovery path) or as a sealed one followed by a good segment (reader path).
          writeFileSync(join(dir, "00000000000000000000.seg"), bytes);
          if (second) {
            writeFileSync(
              join(dir, `${String(bytes.length).padStart(20, "0")}.seg`),
              encodeSegmentHeader(bytes.length),
            );
          }
          let j: Awaited<ReturnType<typeof openJournal>>;
          try {
            j = await openJournal(dir, { fs: noSyncFs });
          } catch (e) {
            expect((e as { _tag?: string })._tag).toMatch(/^Journal\w+Error$/);
            return;
          }
          const reported: string[] = [];
          const records = await collect(j.read(undefined, { onCorruption: (e) => reported.push(e._tag) }));
          for (const t of reported) expect(t).toBe("JournalCorruptionError");
          j.append({ kind: "After" });
          const after = await collect(j.read(records[records.length - 1]?.next, { onCorruption: () => {} }));
          expect(after[after.length - 1].value).toEqual({ kind: "After" });
          try {
            await collect(j.read());
          } catch (e) {
            expect((e as { _tag?: string })._tag).toBe("JournalCorruptionError");
          }
          await j.close();
        },
      ),
      { numRuns: 300 },
    );
  });
});
