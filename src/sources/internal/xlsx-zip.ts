/**
 * @module The parts of an .xlsx (a zip archive) read through its central directory, each part
 * inflated as a stream of text (`DecompressionStream("deflate-raw")`, which Node ≥ 20, Bun and
 * Deno all provide) from its own byte range of the file.
 *
 * Why not exceljs's own `WorkbookReader`: it reads the archive in one forward pass and meets the
 * parts in stored order, so the workbook's sheet list may come after the sheets; that is the race
 * of exceljs#3064, and here it bit on Deno: a 2-sheet workbook written by exceljs failed 10 reads
 * in 20 with "Cannot read properties of undefined (reading 'sheets')" (Node 20 and Bun: 0 in 20).
 * Sheets met before the shared strings are also copied to temporary files first, and every sheet
 * is inflated even when one is wanted. Reading the directory at the end of the file lets the
 * source read the workbook, shared strings and styles first, then only the sheet it wants. Only
 * the directory (a few hundred bytes per part) is held; each part streams in 256 KiB reads.
 * Zip64 archives (over 4 GiB or 65,535 parts) are refused with a clear error.
 */
import { fs } from "../../runtime/fs.ts";

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly localHeaderOffset: number;
}

/**
 * The archive is not a zip file sluice can read (not a zip, truncated, Zip64, encrypted). An
 * internal signal: the Excel source turns it into a `SourceError` naming the file.
 */
export class ZipFormatProblem extends Error {}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

async function readRange(path: string, start: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let at = 0;
  for await (const buf of fs.read(path, { start, bufferSize: Math.min(length, 1 << 20) || 1 })) {
    const n = Math.min(buf.length, length - at);
    out.set(buf.subarray(0, n), at);
    at += n;
    if (at >= length) break;
  }
  return at === length ? out : out.subarray(0, at);
}

/** The entries of the zip archive at `path`, by name. */
export async function readZipDirectory(path: string, size: number): Promise<Map<string, ZipEntry>> {
  const tailLength = Math.min(size, 22 + 0xffff);
  const tail = await readRange(path, size - tailLength, tailLength);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (view.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0)
    throw new ZipFormatProblem("not an .xlsx (zip) file, or it is truncated: no zip directory at its end");
  const count = view.getUint16(eocd + 10, true);
  const dirSize = view.getUint32(eocd + 12, true);
  const dirOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || dirOffset === 0xffffffff)
    throw new ZipFormatProblem("a Zip64 archive (over 4 GiB or 65,535 parts), which sluice cannot read");
  if (dirOffset + dirSize > size)
    throw new ZipFormatProblem(
      `truncated: its zip directory (at byte ${dirOffset}) runs past the end of the file`,
    );
  const dir = await readRange(path, dirOffset, dirSize);
  const dv = new DataView(dir.buffer, dir.byteOffset, dir.byteLength);
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dir.length || dv.getUint32(p, true) !== CENTRAL)
      throw new ZipFormatProblem(
        `corrupt zip directory at byte ${dirOffset + p} (entry ${i + 1} of ${count})`,
      );
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const compressedSize = dv.getUint32(p + 20, true);
    const nameLength = dv.getUint16(p + 28, true);
    const extraLength = dv.getUint16(p + 30, true);
    const commentLength = dv.getUint16(p + 32, true);
    const localHeaderOffset = dv.getUint32(p + 42, true);
    const name = decoder.decode(dir.subarray(p + 46, p + 46 + nameLength));
    if (flags & 1) throw new ZipFormatProblem(`part ${name} is encrypted (a password-protected workbook)`);
    entries.set(name, { name, method, compressedSize, localHeaderOffset });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The text of one part, inflated as it is read. */
export async function* readZipText(
  path: string,
  entry: ZipEntry,
  signal?: AbortSignal,
  /** Told the file offset reached after each read (for progress). */
  onRead?: (offset: number) => void,
): AsyncGenerator<string> {
  const header = await readRange(path, entry.localHeaderOffset, 30);
  const hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (header.length < 30 || hv.getUint32(0, true) !== LOCAL)
    throw new ZipFormatProblem(
      `corrupt part ${entry.name}: no local header at byte ${entry.localHeaderOffset}`,
    );
  const start = entry.localHeaderOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
  let left = entry.compressedSize;
  const chunks = fs.read(path, { start, bufferSize: 256 * 1024, signal });
  // Pulled, so one read at a time: the part is never held whole.
  const raw = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = left > 0 ? await chunks.next() : { done: true, value: undefined };
        if (done || !value) {
          await chunks.return(undefined);
          if (left > 0)
            controller.error(new ZipFormatProblem(`truncated: part ${entry.name} ends ${left} bytes early`));
          else controller.close();
          return;
        }
        const piece = value.length > left ? value.subarray(0, left) : value;
        left -= piece.length;
        onRead?.(start + entry.compressedSize - left);
        controller.enqueue(piece);
      },
      async cancel() {
        await chunks.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
  if (entry.method !== 0 && entry.method !== 8)
    throw new ZipFormatProblem(
      `part ${entry.name} uses zip method ${entry.method} (only stored and deflate are read)`,
    );
  // (The DOM typings' generics on Uint8Array do not line up with TS 5.9's; the streams are byte streams.)
  const inflate = new DecompressionStream("deflate-raw") as unknown as TransformStream<
    Uint8Array,
    Uint8Array
  >;
  const bytes = entry.method === 8 ? raw.pipeThrough(inflate) : raw;
  const text = new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>;
  const reader = bytes.pipeThrough(text).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } catch (e) {
    if (e instanceof ZipFormatProblem) throw e;
    throw new ZipFormatProblem(`corrupt part ${entry.name}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    // Stopped early (a sample, the end of a range): cancel, which closes the file.
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
