/**
 * A failed write or fsync (ENOSPC, EIO) must reach the caller as a
 * JournalWriteError, and the journal must refuse every later append and sync:
 * no checkpoint may be recorded as durable when it is not. Reopening recovers
 * every complete record.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type JournalClock, JournalWriteError, openJournal } from "../../src/journal/index.ts";
import type { DurableFs } from "../../src/runtime/durable-fs.ts";
import { nodeDurableFs } from "../../src/runtime/durable-fs.ts";
import { collect, event, instrumentedFs, tempDir } from "../journal/helpers.ts";

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir("sluice-fsync-"));
});
afterEach(() => cleanup());

describe("write and fsync failures", () => {
  it("sync() rejects with JournalWriteError on a failed fsync, and the journal refuses further appends", async () => {
    // datasync #1 is the new segment's header at open; #2 is the first sync().
    const { fs } = instrumentedFs({ failDatasyncAt: 2, code: "EIO" });
    const j = await openJournal(dir, { fs });
    j.append({ kind: "Checkpoint", id: 1 });
    const failure = await j.sync().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(JournalWriteError);
    const err = failure as JournalWriteError;
    expect(err._tag).toBe("JournalWriteError");
    expect(err.operation).toBe("fsync");
    expect(err.file).toMatch(/00000000000000000000\.seg$/);
    expect(err.message).toMatch(/fsync failed for .*00000000000000000000\.seg at byte offset \d+: .*EIO/);
    expect(err.message).toMatch(/refuses further appends.*reopen the journal/);
    expect(() => j.append({ kind: "Checkpoint", id: 2 })).toThrow(JournalWriteError);
    await expect(j.sync()).rejects.toBe(err);
    await expect(j.flush()).rejects.toBe(err);
    await j.close();

    const again = await openJournal(dir);
    expect((await collect(again.read())).map((r) => r.value)).toEqual([{ kind: "Checkpoint", id: 1 }]);
    await again.close();
  });

  it("a background write failure (full batch, ENOSPC) surfaces on the next append and sync", async () => {
    const { fs } = instrumentedFs({ failWriteAt: 2 }); // write #1 is the segment header
    const j = await openJournal(dir, { fs, writeBufferSize: "4KiB" });
    let thrown: unknown;
    try {
      for (let i = 0; i < 1000; i++) j.append(event(i));
      await j.flush();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(JournalWriteError);
    expect((thrown as JournalWriteError).message).toMatch(/write failed .*ENOSPC/);
    await expect(j.sync()).rejects.toBeInstanceOf(JournalWriteError);
    await j.close();
  });

  it("ENOSPC in the middle of a write leaves a partial frame that the next open trims", async () => {
    let calls = 0;
    const halfWrites: DurableFs = {
      ...nodeDurableFs,
      open: async (path, how, mode) => {
        const f = await nodeDurableFs.open(path, how, mode);
        return {
          ...f,
          path: f.path,
          async write(data, position) {
            calls++;
            if (calls < 3) return f.write(data, position);
            await f.write(data.subarray(0, data.length - 5), position); // all but the last 5 bytes
            throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
          },
        };
      },
    };
    const j = await openJournal(dir, { fs: halfWrites });
    j.append(event(1));
    await j.sync(); // write #2
    const p2 = j.append(event(2));
    const p3 = j.append(event(3));
    const frameSize = p3.offset - p2.offset; // event(3) encodes to the same size
    await expect(j.sync()).rejects.toBeInstanceOf(JournalWriteError);
    await j.close();

    const again = await openJournal(dir);
    expect(again.recovery.corruptions).toEqual([]);
    // event(2) made it whole before the disk filled up; event(3) lost its last bytes.
    expect(again.recovery.trimmedBytes).toBe(frameSize - 5);
    expect((await collect(again.read())).map((r) => r.value)).toEqual([event(1), event(2)]);
    again.append(event(4));
    await again.sync();
    expect((await collect(again.read())).map((r) => r.value)).toEqual([event(1), event(2), event(4)]);
    await again.close();
  });

  it("always: the failing fsync rejects the waiting sync()", async () => {
    const { fs } = instrumentedFs({ failDatasyncAt: 3 });
    const j = await openJournal(dir, { fs, fsync: "always" });
    j.append(event(1));
    await j.sync(); // datasync #2
    j.append(event(2));
    await expect(j.sync()).rejects.toBeInstanceOf(JournalWriteError);
    expect(() => j.append(event(3))).toThrow(/fsync failed/);
    await j.close();
  });

  it("interval: a failure of the timer-driven fsync is raised by the next append", async () => {
    const callbacks: Array<() => void> = [];
    const clock: JournalClock = {
      every: (_ms, fn) => {
        callbacks.push(fn);
        return () => {};
      },
    };
    const { fs } = instrumentedFs({ failDatasyncAt: 2 });
    const j = await openJournal(dir, { fs, fsync: "interval", clock });
    j.append(event(1));
    callbacks[0]();
    await j.flush().catch(() => {});
    expect(() => j.append(event(2))).toThrow(JournalWriteError);
    await j.close();
  });

  it("a failure to create the next segment at rotation is a JournalWriteError naming that segment", async () => {
    const refuseCreate: DurableFs = {
      ...nodeDurableFs,
      open: async (path, how, mode) => {
        if (how === "create" && path.endsWith(".seg") && !path.endsWith("00000000000000000000.seg")) {
          throw Object.assign(new Error("EACCES: permission denied, open"), { code: "EACCES" });
        }
        return nodeDurableFs.open(path, how, mode);
      },
    };
    const j = await openJournal(dir, { fs: refuseCreate, segmentSize: 500 });
    for (let i = 0; i < 5; i++) j.append(event(i));
    const err = await j.sync().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JournalWriteError);
    expect((err as JournalWriteError).operation).toBe("create segment");
    expect((err as JournalWriteError).message).toMatch(
      /create segment failed for .*\.seg at byte offset 0: .*EACCES/,
    );
    await j.close();
  });
});
