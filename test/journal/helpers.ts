/**
 * @module Shared fixtures for journal tests: throw-away directories, raw
 * segment access and a `DurableFs` wrapper that counts calls and injects
 * failures.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DurableFile, DurableFs } from "../../src/runtime/durable-fs.ts";
import { nodeDurableFs } from "../../src/runtime/durable-fs.ts";

export function tempDir(prefix = "sluice-journal-"): { dir: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { dir: join(root, "journal"), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function segmentNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(".seg"))
    .sort();
}

export function readSegment(dir: string, name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, name)));
}

export function writeSegment(dir: string, name: string, bytes: Uint8Array): void {
  writeFileSync(join(dir, name), bytes);
}

export interface Counts {
  writes: number;
  datasyncs: number;
  syncDirs: number;
}

export interface FaultPlan {
  /** Fail the n-th (1-based) datasync call with this error code. */
  failDatasyncAt?: number;
  /** Fail the n-th write call. */
  failWriteAt?: number;
  code?: string;
}

function fault(code: string, syscall: string): Error {
  return Object.assign(new Error(`${code}: injected failure, ${syscall}`), { code, syscall });
}

/** Wraps the real file system, counting calls and failing the ones the plan names. */
export function instrumentedFs(
  plan: FaultPlan = {},
  inner: DurableFs = nodeDurableFs,
): { fs: DurableFs; counts: Counts } {
  const counts: Counts = { writes: 0, datasyncs: 0, syncDirs: 0 };
  const code = plan.code ?? "ENOSPC";
  const wrapFile = (f: DurableFile): DurableFile => ({
    path: f.path,
    async write(data, position) {
      counts.writes++;
      if (counts.writes === plan.failWriteAt) throw fault(code, "write");
      return f.write(data, position);
    },
    read: (p, l) => f.read(p, l),
    async datasync() {
      counts.datasyncs++;
      if (counts.datasyncs === plan.failDatasyncAt) throw fault(code, "fdatasync");
      return f.datasync();
    },
    truncate: (l) => f.truncate(l),
    size: () => f.size(),
    close: () => f.close(),
  });
  const fs: DurableFs = {
    ...inner,
    open: async (path, how, mode) => wrapFile(await inner.open(path, how, mode)),
    syncDir: async (path) => {
      counts.syncDirs++;
      return inner.syncDir(path);
    },
  };
  return { fs, counts };
}

/** An event-like object of about `size` bytes once encoded. */
export function event(i: number, size = 200): { kind: string; seq: number; stage: string; pad: string } {
  return {
    kind: i % 10 === 9 ? "Checkpoint" : "ChunkDone",
    seq: i,
    stage: "score",
    pad: "x".repeat(Math.max(0, size - 48)),
  };
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

/**
 * The real file system without fsync, for sweeps that reopen a journal
 * hundreds of times: they test recovery logic, not the disk.
 */
export const noSyncFs: DurableFs = {
  ...nodeDurableFs,
  open: async (path, how, mode) => {
    const f = await nodeDurableFs.open(path, how, mode);
    return { ...f, path: f.path, datasync: async () => {} };
  },
  syncDir: async () => {},
};
