/**
 * The read-only journal reader: sees every complete record of a journal
 * left as a crash left it (torn tail, a segment created but never written),
 * changes no byte, and refuses a newer format.
 */
import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openJournal } from "../../src/journal/index.ts";
import { readJournal } from "../../src/journal/journal-reader.ts";
import { collect, segmentNames, tempDir } from "./helpers.ts";

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

async function written(count: number, segmentSize?: string) {
  const t = tempDir();
  cleanup = t.cleanup;
  const j = await openJournal<{ kind: string; i: number }>(t.dir, { segmentSize });
  for (let i = 0; i < count; i++) j.append({ kind: i % 10 === 9 ? "checkpoint" : "stage.progress", i });
  await j.close();
  return t.dir;
}

describe("readJournal", () => {
  it("returns undefined where there is no journal", async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    expect(await readJournal(t.dir)).toBeUndefined();
  });

  it("reads a torn tail up to the last complete record without touching the files", async () => {
    const dir = await written(100, "4KiB");
    const names = segmentNames(dir);
    const last = join(dir, names[names.length - 1]);
    appendFileSync(last, new Uint8Array([40, 0, 0, 0, 1, 2, 3])); // half a frame
    const size = statSync(last).size;
    const r = await readJournal<{ i: number }>(dir);
    const all = await collect(r!.read());
    expect(all.map((x) => x.value.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect((await r!.lastOfKind("checkpoint"))?.value.i).toBe(99);
    expect(statSync(last).size).toBe(size);
  });

  it("ignores a last segment that was created but never written (a crash during rotation)", async () => {
    const dir = await written(100, "4KiB");
    const names = segmentNames(dir);
    const last = names[names.length - 1];
    const base = Number(last.slice(0, 20)) + statSync(join(dir, last)).size;
    writeFileSync(join(dir, `${String(base).padStart(20, "0")}.seg`), new Uint8Array(0));
    const all = await collect((await readJournal<{ i: number }>(dir))!.read());
    expect(all).toHaveLength(100);
  });

  it("refuses a journal written by a newer format", async () => {
    const dir = await written(3);
    const seg = join(dir, segmentNames(dir)[0]);
    const bytes = readFileSync(seg);
    bytes[8] = 2;
    writeFileSync(seg, bytes);
    await expect(readJournal(dir)).rejects.toMatchObject({ _tag: "JournalVersionError", version: 2 });
  });
});
