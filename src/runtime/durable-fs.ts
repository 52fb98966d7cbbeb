/**
 * @module The file primitives the journal needs to make data durable: private
 * modes (0700 directories, 0600 files), positional writes, `fdatasync`,
 * truncation and directory fsync after a create or rename. It is an interface
 * so tests can inject failures (ENOSPC, EIO on fsync) and so the journal itself
 * stays free of `node:*`. `node:fs` behaves the same on Node, Bun and Deno, so
 * one implementation serves all three.
 */

import type { FileHandle } from "node:fs/promises";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";

/** Size and permission bits of a file or directory. */
export interface DurableStat {
  readonly size: number;
  /** Permission bits only (`mode & 0o777`). */
  readonly mode: number;
  readonly isDirectory: boolean;
}

/** An open file. Writes are positional; the caller tracks the end. */
export interface DurableFile {
  readonly path: string;
  /** Writes all of `data` at `position` (loops over short writes). */
  write(data: Uint8Array, position: number): Promise<void>;
  /** Reads up to `length` bytes at `position` into a fresh buffer (shorter at end of file). */
  read(position: number, length: number): Promise<Uint8Array>;
  /** `fdatasync`: returns once written data (and the size) are on stable storage. */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

/** How {@link DurableFs.open} treats an existing file. */
export type OpenMode =
  /** Read only; the file must exist. */
  | "read"
  /** Read and write; the file must exist. */
  | "readwrite"
  /** Create a new file with mode 0600; fails if it exists. */
  | "create";

export interface DurableFs {
  /** Creates `path` and missing parents with `mode` (0700 for the journal). Existing directories are kept as they are. */
  mkdir(path: string, mode: number): Promise<void>;
  /** Opens a file; new files get `fileMode` (0600 for the journal). */
  open(path: string, how: OpenMode, fileMode?: number): Promise<DurableFile>;
  /** Entry names in a directory (empty when it does not exist). */
  readdir(path: string): Promise<string[]>;
  /** `undefined` when the path does not exist. */
  stat(path: string): Promise<DurableStat | undefined>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** Makes a create, rename or remove inside `path` durable. */
  syncDir(path: string): Promise<void>;
  join(...parts: string[]): string;
}

function errorCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e
    ? String((e as { code: unknown }).code)
    : undefined;
}

function wrap(handle: FileHandle, path: string): DurableFile {
  return {
    path,
    async write(data, position) {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
        if (bytesWritten <= 0) throw new Error(`short write to ${path} at byte ${position + done}`);
        done += bytesWritten;
      }
    },
    async read(position, length) {
      const buffer = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await handle.read(buffer, got, length - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? buffer : buffer.subarray(0, got);
    },
    datasync: () => handle.datasync(),
    truncate: (length) => handle.truncate(length),
    size: async () => (await handle.stat()).size,
    close: () => handle.close(),
  };
}

/** The `node:fs` implementation (Node, Bun and Deno). */
export const nodeDurableFs: DurableFs = {
  async mkdir(path, mode) {
    await mkdir(path, { recursive: true, mode });
  },
  async open(path, how, fileMode = 0o600) {
    const flags = how === "read" ? "r" : how === "readwrite" ? "r+" : "wx+";
    return wrap(await open(path, flags, fileMode), path);
  },
  async readdir(path) {
    try {
      return await readdir(path);
    } catch (e) {
      if (errorCode(e) === "ENOENT") return [];
      throw e;
    }
  },
  async stat(path) {
    try {
      const s = await stat(path);
      return { size: s.size, mode: s.mode & 0o777, isDirectory: s.isDirectory() };
    } catch (e) {
      if (errorCode(e) === "ENOENT") return undefined;
      throw e;
    }
  },
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { force: true }),
  async syncDir(path) {
    // Windows cannot open a directory for fsync; NTFS journals the metadata
    // itself, so there is nothing to do there.
    if (process.platform === "win32") return;
    const handle = await open(path, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  join: (...parts) => join(...parts),
};
