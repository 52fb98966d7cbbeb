/**
 * @module The keyed state backend's map of values (`aggregate`'s accumulators): in memory, with
 * incremental checkpoints and compaction.
 *
 * Each checkpoint appends one JSON line to the generation's log (`log-<gen>.ndjson` in the
 * state's directory) holding only the keys changed since the previous checkpoint, with their
 * values (`null` for a removed key), fsynced; the journal gets a token of a few numbers. When a
 * log has grown past four times the size of the live state (and past 1 MiB), the next checkpoint
 * starts a new generation whose first line is the whole state: the log stays within a small
 * multiple of the state, whatever the number of checkpoints. Resume truncates the token's log to
 * its committed length, replays it (last write wins) and removes every other file.
 *
 * Values must survive JSON (numbers, strings, booleans, null, arrays and plain objects of them;
 * `undefined` reads back as `null`).
 */
import { StateError } from "../../../pipeline/errors.ts";
import { fs, paths } from "../../../runtime/fs.ts";
import { decodeKey, encodeKey, type StateKey } from "./bloom.ts";

/** What a checkpoint records of the map. */
export interface ValueLogToken {
  readonly v: 1;
  readonly gen: number;
  readonly logBytes: number;
}

const encoder = new TextEncoder();
const logName = (gen: number) => `log-${gen}.ndjson`;
const COMPACT_FLOOR = 1 << 20;

export class LoggedMap<V> {
  readonly map = new Map<StateKey, V>();
  private dirty = new Set<StateKey>();
  private gen = 0;
  private logBytes = 0;
  /** Bytes of the last full write of the state (its size, roughly). */
  private liveBytes = 0;
  private log: Awaited<ReturnType<typeof fs.openWriter>> | undefined;

  private constructor(
    private readonly dir: string,
    private readonly compactFloor: number,
  ) {}

  /**
   * Files are opened when first written (or by `restore`), so a resumed run's are untouched.
   * `compactFloor`: a log is never compacted below this many bytes (default 1 MiB).
   */
  static async open<V>(dir: string, options: { compactFloor?: number } = {}): Promise<LoggedMap<V>> {
    await fs.mkdirp(dir, 0o700);
    return new LoggedMap<V>(dir, options.compactFloor ?? COMPACT_FLOOR);
  }

  get(k: StateKey): V | undefined {
    return this.map.get(k);
  }

  /** Sets a value (or says a value held in place was changed: `set(k, map.get(k))`). */
  set(k: StateKey, v: V): void {
    this.map.set(k, v);
    this.dirty.add(k);
  }

  delete(k: StateKey): void {
    if (this.map.delete(k)) this.dirty.add(k);
  }

  /** Appends what changed since the last checkpoint (or the whole state, to compact); returns the token. */
  async checkpoint(): Promise<ValueLogToken> {
    const compact = this.logBytes > this.compactFloor && this.logBytes > 4 * this.liveBytes;
    if (compact) {
      await this.log?.close();
      this.gen++;
      this.logBytes = 0;
      this.log = await fs.openWriter(paths.join(this.dir, logName(this.gen)), { mode: 0o600 });
    }
    if (compact || this.dirty.size > 0) {
      const keys = compact ? this.map.keys() : this.dirty;
      const entries: Array<[string, unknown]> = [];
      for (const k of keys) entries.push([encodeKey(k), this.map.has(k) ? this.map.get(k) : null]);
      const bytes = encoder.encode(`${JSON.stringify(entries)}\n`);
      this.log ??= await fs.openWriter(paths.join(this.dir, logName(this.gen)), { mode: 0o600 });
      await this.log.write(bytes);
      await this.log.sync();
      this.logBytes += bytes.length;
      if (compact || this.liveBytes === 0) this.liveBytes = bytes.length;
      this.dirty = new Set();
    }
    return { v: 1, gen: this.gen, logBytes: this.logBytes };
  }

  /** Goes back to the state of `token`. */
  async restore(token: ValueLogToken): Promise<void> {
    await this.log?.close();
    const name = logName(token.gen);
    for (const f of await fs.readdir(this.dir)) if (f !== name) await fs.remove(paths.join(this.dir, f));
    const path = paths.join(this.dir, name);
    const size = (await fs.stat(path))?.size ?? 0;
    if (size < token.logBytes) {
      throw new StateError(
        `cannot resume: the state log ${path} has ${size} bytes but the checkpoint committed ${token.logBytes}`,
        { hint: "The run's state directory was removed or truncated. Run again with --fresh to start over." },
      );
    }
    if (size > token.logBytes) await fs.truncate(path, token.logBytes);
    this.map.clear();
    this.dirty = new Set();
    if (token.logBytes > 0) {
      for (const line of (await fs.readText(path)).split("\n")) {
        if (!line) continue;
        for (const [k, v] of JSON.parse(line) as Array<[string, V | null]>) {
          if (v === null) this.map.delete(decodeKey(k));
          else this.map.set(decodeKey(k), v);
        }
      }
    }
    this.gen = token.gen;
    this.logBytes = token.logBytes;
    this.liveBytes = Math.min(token.logBytes, this.compactFloor);
    this.log = await fs.openWriter(path, { append: true, mode: 0o600 });
  }

  async close(): Promise<void> {
    await this.log?.close();
    this.log = undefined;
  }
}
