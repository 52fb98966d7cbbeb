/**
 * @module Spilled key runs: the on-disk part of the keyed state backend (`key-set.ts`).
 *
 * A run is one immutable file holding the keys that were in memory when it was spilled, hashed
 * into 2^k buckets of about 64 keys. Layout: a u32 header length, a JSON header, a table of
 * bucket offsets (u32, bucket b spans offsets[b]..offsets[b+1] of the data), then each bucket as a
 * JSON array of encoded keys (or `[key, time]` pairs when the state has a TTL). Opening a run reads
 * only the header and the offset table; a lookup reads one bucket (~1 KB) with a positional read.
 *
 * Why not LMDB (already a dependency, used by the cache's disk tier): keys arrive in random order
 * and LMDB's B-tree puts cost 3.5 µs each on this machine (2M distinct keys: 7.1 s CPU async,
 * 7.4 s in sync transactions, against 1.2 s to add them to a `Set`), so spilling 1M keys would
 * stall the pipeline for seconds; a bucketed run is written sequentially in one pass (no sort).
 *
 * Writing: keys are put in bucket order by a counting sort (no array a bucket), and when no key
 * needs a JSON escape and all are ASCII (the usual ids) the buckets are joined strings encoded
 * once; the data goes out in 1 MiB subarrays of that one buffer, never copied whole (the old
 * writer held every bucket's bytes and their concatenation at once). In isolation (250k keys)
 * both ways cost about the same CPU, ~70–140 ms a run; the point is the transient memory.
 */
import { StateError } from "../../../pipeline/errors.ts";
import { fs, openRandomAccess, type RandomAccessFile } from "../../../runtime/fs.ts";
import { hashKey } from "./bloom.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface RunHeader {
  readonly v: 1;
  readonly buckets: number;
  readonly count: number;
  /** Latest insertion time of a key in the run (with a TTL), else 0. */
  readonly maxTime: number;
  readonly timed: boolean;
}

/** Bytes a run's data is written in: subarrays of one buffer, no copy of the whole run. */
const WRITE_PIECE = 1 << 20;

/**
 * Writes `keys` (encoded, each as `prefix + keys[i]`; with `times` when the state has a TTL) as a
 * run file, fsynced, at `path`. `hashes[i]`, when given, is the hash of the encoded key (the caller
 * has it for the Bloom filter). The prefix spares the caller a new string a key when spilling.
 */
export async function writeRun(
  path: string,
  keys: readonly string[],
  times?: readonly number[],
  hashes?: Uint32Array,
  prefix = "",
): Promise<RunHeader> {
  let buckets = 1;
  while (buckets * 64 < keys.length) buckets *= 2;
  const mask = buckets - 1;
  // Keys in bucket order by a counting sort over index arrays: no array per bucket.
  const bucketOf = new Uint32Array(keys.length);
  const starts = new Uint32Array(buckets + 1);
  let maxTime = 0;
  for (let i = 0; i < keys.length; i++) {
    const b = (hashes ? hashes[i] : hashKey(prefix + keys[i])) & mask;
    bucketOf[i] = b;
    starts[b + 1]++;
    if (times && times[i] > maxTime) maxTime = times[i];
  }
  for (let b = 0; b < buckets; b++) starts[b + 1] += starts[b];
  const fill = starts.slice(0, buckets);
  const sorted: unknown[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) sorted[fill[bucketOf[i]]++] = times ? [keys[i], times[i]] : keys[i];
  const header: RunHeader = { v: 1, buckets, count: keys.length, maxTime, timed: times !== undefined };
  const { data, offsets } =
    (!times && plainData(sorted as string[], starts, prefix)) ||
    jsonData(prefix ? sorted.map((k) => prefix + k) : sorted, starts);
  sorted.length = 0;
  const head = encoder.encode(JSON.stringify(header));
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, head.length, true);
  const tmp = `${path}.tmp`;
  const w = await fs.openWriter(tmp, { mode: 0o600 });
  try {
    await w.write(concat([len, head, new Uint8Array(offsets.buffer)]));
    for (let at = 0; at < data.length; at += WRITE_PIECE) await w.write(data.subarray(at, at + WRITE_PIECE));
    await w.sync();
  } finally {
    await w.close();
  }
  await fs.rename(tmp, path);
  return header;
}

/**
 * The buckets' bytes when no key needs a JSON escape and all are ASCII (checked in bulk: the
 * array's JSON is as long as its keys with quotes and commas, its UTF-8 as long as its text):
 * joined strings and one encode, no array or buffer a bucket. Otherwise `undefined`.
 */
function plainData(
  sorted: string[],
  starts: Uint32Array,
  prefix: string,
): { data: Uint8Array; offsets: Uint32Array } | undefined {
  let chars = 0;
  for (const k of sorted) chars += k.length + 3;
  if (JSON.stringify(sorted).length !== Math.max(2, chars + 1)) return undefined;
  const buckets = starts.length - 1;
  const texts: string[] = new Array(buckets);
  const offsets = new Uint32Array(buckets + 1);
  for (let b = 0; b < buckets; b++) {
    const from = starts[b];
    const to = starts[b + 1];
    texts[b] = from === to ? "[]" : `["${prefix}${sorted.slice(from, to).join(`","${prefix}`)}"]`;
    offsets[b + 1] = offsets[b] + texts[b].length;
  }
  const text = texts.join("");
  const data = encoder.encode(text);
  return data.length === text.length ? { data, offsets } : undefined;
}

/** The buckets' bytes, one `JSON.stringify` each (any key; `[key, time]` pairs with a TTL). */
function jsonData(sorted: unknown[], starts: Uint32Array): { data: Uint8Array; offsets: Uint32Array } {
  const buckets = starts.length - 1;
  const parts: Uint8Array[] = new Array(buckets);
  const offsets = new Uint32Array(buckets + 1);
  for (let b = 0; b < buckets; b++) {
    parts[b] = encoder.encode(JSON.stringify(sorted.slice(starts[b], starts[b + 1])));
    offsets[b + 1] = offsets[b] + parts[b].length;
  }
  return { data: concat(parts), offsets };
}

/** An open run: `has` reads the one bucket a key hashes to. */
export class RunReader {
  private constructor(
    readonly path: string,
    readonly header: RunHeader,
    private readonly file: RandomAccessFile,
    private readonly offsets: Uint32Array,
    private readonly dataStart: number,
  ) {}

  static open(path: string): RunReader {
    let file: RandomAccessFile;
    try {
      file = openRandomAccess(path);
    } catch (e) {
      throw new StateError(`cannot resume: the state file ${path} is missing (${(e as Error).message})`, {
        hint: "The run's state directory was removed. Run again with --fresh to start over.",
      });
    }
    try {
      const headLen = new DataView(file.readAt(0, 4).buffer).getUint32(0, true);
      const header = JSON.parse(decoder.decode(file.readAt(4, headLen))) as RunHeader;
      const table = file.readAt(4 + headLen, 4 * (header.buckets + 1));
      const offsets = new Uint32Array(table.slice().buffer);
      if (header.v !== 1 || offsets.length !== header.buckets + 1)
        throw new Error("not a sluice state run file");
      return new RunReader(path, header, file, offsets, 4 + headLen + table.length);
    } catch (e) {
      file.close();
      throw new StateError(`cannot read the state file ${path}: ${(e as Error).message}`, {
        hint: "The run's state directory is damaged. Run again with --fresh to start over.",
      });
    }
  }

  /**
   * Whether the run holds `encoded` (hashed to `h1`); with a TTL, the time it was added
   * (a number) or `undefined` when absent.
   */
  find(encoded: string, h1: number): number | undefined {
    const b = h1 & (this.header.buckets - 1);
    const from = this.offsets[b];
    const to = this.offsets[b + 1];
    if (to === from) return undefined;
    const list = JSON.parse(decoder.decode(this.file.readAt(this.dataStart + from, to - from))) as unknown[];
    if (!this.header.timed) return list.includes(encoded) ? 0 : undefined;
    for (const e of list as Array<[string, number]>) if (e[0] === encoded) return e[1];
    return undefined;
  }

  /** Every key of the run (for a merge or a test). */
  *keys(): Generator<[string, number]> {
    for (let b = 0; b < this.header.buckets; b++) {
      const from = this.offsets[b];
      const to = this.offsets[b + 1];
      if (to === from) continue;
      const list = JSON.parse(
        decoder.decode(this.file.readAt(this.dataStart + from, to - from)),
      ) as unknown[];
      for (const e of list) yield this.header.timed ? (e as [string, number]) : [e as string, 0];
    }
  }

  close(): void {
    this.file.close();
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
