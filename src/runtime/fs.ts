/**
 * @module File-system capabilities for sources, sinks and the state directory.
 * `node:fs` is implemented by Node, Bun and Deno alike, so one implementation
 * serves all three; it lives here so the rest of the engine stays on Web APIs.
 */
import { closeSync, constants, createReadStream, openSync, readSync } from "node:fs";
import {
  copyFile,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  truncate,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** A file opened for writing. */
export interface FileWriter {
  readonly path: string;
  write(data: Uint8Array | string): Promise<void>;
  /** Flushes to stable storage (fsync). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FileInfo {
  size: number;
  mtimeMs: number;
  isFile: boolean;
  isDirectory: boolean;
}

/** A file opened for reads at any offset (columnar formats read a footer, then column chunks). */
export interface RandomReader {
  readonly size: number;
  /** Bytes `start..end` (end exclusive, clamped to the file's size). */
  read(start: number, end: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface ReadOptions {
  /** Byte offset to start at (resume). */
  start?: number;
  /** Bytes per read; default 1 MiB. */
  bufferSize?: number;
  signal?: AbortSignal;
}

const encoder = new TextEncoder();

export const fs = {
  /**
   * Reads a file as a sequence of fresh buffers (never reused, so a consumer
   * may keep a slice). Backpressured: the next read starts when pulled.
   */
  async *read(path: string, options: ReadOptions = {}): AsyncGenerator<Uint8Array> {
    const size = options.bufferSize ?? 1 << 20;
    const handle = await open(path, "r");
    try {
      let position = options.start ?? 0;
      for (;;) {
        if (options.signal?.aborted) return;
        const buffer = new Uint8Array(size);
        const { bytesRead } = await handle.read(buffer, 0, size, position);
        if (bytesRead === 0) return;
        position += bytesRead;
        yield bytesRead === size ? buffer : buffer.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  },

  /** A Web `ReadableStream` of a file (for libraries that take one). */
  readable(path: string, start = 0): ReadableStream<Uint8Array> {
    const stream = createReadStream(path, { start });
    return new ReadableStream<Uint8Array>({
      start(controller) {
        stream.on("data", (chunk) => {
          controller.enqueue(new Uint8Array(chunk as Uint8Array));
          stream.pause();
        });
        stream.on("end", () => controller.close());
        stream.on("error", (e) => controller.error(e));
        stream.pause();
      },
      pull() {
        stream.resume();
      },
      cancel() {
        stream.destroy();
      },
    });
  },

  /** Opens a file for reads at any offset; the handle stays open until `close()`. */
  async openRandom(path: string): Promise<RandomReader> {
    const handle = await open(path, "r");
    const size = (await handle.stat()).size;
    return {
      size,
      async read(start, end) {
        const length = Math.max(0, Math.min(end, size) - start);
        const buffer = new Uint8Array(length);
        let off = 0;
        while (off < length) {
          const { bytesRead } = await handle.read(buffer, off, length - off, start + off);
          if (bytesRead === 0) break;
          off += bytesRead;
        }
        return off === length ? buffer : buffer.subarray(0, off);
      },
      close: () => handle.close(),
    };
  },

  async stat(path: string): Promise<FileInfo | undefined> {
    try {
      const s = await stat(path);
      return { size: s.size, mtimeMs: s.mtimeMs, isFile: s.isFile(), isDirectory: s.isDirectory() };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  },

  /** Checks that a file can be opened for reading (for early, clear errors). */
  async canRead(path: string): Promise<boolean> {
    try {
      const h = await open(path, constants.O_RDONLY);
      await h.close();
      return true;
    } catch {
      return false;
    }
  },

  async openWriter(path: string, options: { append?: boolean; mode?: number } = {}): Promise<FileWriter> {
    const handle = await open(path, options.append ? "a" : "w", options.mode ?? 0o644);
    return {
      path,
      async write(data) {
        const bytes = typeof data === "string" ? encoder.encode(data) : data;
        let off = 0;
        while (off < bytes.length) {
          const { bytesWritten } = await handle.write(bytes, off, bytes.length - off);
          off += bytesWritten;
        }
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  },

  mkdirp: async (path: string, mode = 0o755): Promise<void> => {
    await mkdir(path, { recursive: true, mode });
  },
  rename: (from: string, to: string): Promise<void> => rename(from, to),
  /** Cuts a file to `length` bytes in place (resume drops what was written after a checkpoint). */
  truncate: (path: string, length: number): Promise<void> => truncate(path, length),
  remove: (path: string): Promise<void> => rm(path, { force: true, recursive: true }),
  copyFile: (from: string, to: string): Promise<void> => copyFile(from, to),
  /** A new private directory under the system's temporary directory (the caller removes it). */
  tempDir: (prefix: string): Promise<string> => mkdtemp(join(tmpdir(), prefix)),
  readdir: async (path: string): Promise<string[]> => {
    try {
      return await readdir(path);
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
  },
  /** The path with every symbolic link resolved, or undefined when it does not exist. */
  realpath: async (path: string): Promise<string | undefined> => {
    try {
      return await realpath(path);
    } catch (e) {
      if (isNotFound(e) || errorCode(e) === "ENOTDIR") return undefined;
      throw e;
    }
  },
  readText: (path: string): Promise<string> => readFile(path, "utf8"),
  readBytes: async (path: string): Promise<Uint8Array> => new Uint8Array(await readFile(path)),
  writeText: (path: string, text: string, mode?: number): Promise<void> => writeFile(path, text, { mode }),
};

/**
 * A file read synchronously at positions: for lookups in the middle of a chunk's loop (a state
 * backend reading one small block of a spilled file), where a promise per read would cost more
 * than the read.
 */
export interface RandomAccessFile {
  readonly path: string;
  /** Reads `length` bytes at `position` (fewer at the end of the file). */
  readAt(position: number, length: number): Uint8Array;
  close(): void;
}

/** Opens `path` for `RandomAccessFile.readAt`. */
export function openRandomAccess(path: string): RandomAccessFile {
  const fd = openSync(path, "r");
  let open = true;
  return {
    path,
    readAt(position, length) {
      const buf = new Uint8Array(length);
      let off = 0;
      while (off < length) {
        const n = readSync(fd, buf, off, length - off, position + off);
        if (n === 0) break;
        off += n;
      }
      return off === length ? buf : buf.subarray(0, off);
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** Path helpers (POSIX and Windows aware). */
export const paths = {
  join,
  resolve,
  dirname,
  basename,
  relative,
  isAbsolute,
  toFileUrl: (path: string): string => pathToFileURL(path).href,
  fromFileUrl: (url: string | URL): string => fileURLToPath(url),
};

/** True for ENOENT-style errors. */
export function isNotFound(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: string }).code === "ENOENT";
}

/** The errno-style code of a file-system error, if any. */
export function errorCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null ? (e as { code?: string }).code : undefined;
}
