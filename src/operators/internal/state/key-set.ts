/**
 * @module The keyed state backend's set of keys (DESIGN §5 "State"): what `dedupe` remembers,
 * with incremental checkpoints, spill to disk beyond a memory budget, and a TTL per key.
 *
 * - **Memory:** the keys added since the last spill, at most `memoryKeys` of them.
 * - **Incremental checkpoints:** at each checkpoint the keys added since the previous one are
 *   appended as one JSON line to the generation's log (`log-<gen>.ndjson`) and fsynced; the
 *   journal gets a token of a few numbers (`KeySetToken`), so a checkpoint costs what changed,
 *   never the whole state.
 * - **Spill:** when memory holds `memoryKeys` keys they are written as an immutable run file
 *   (`run-<n>.keys`, see `run-file.ts`), added to a Bloom filter (`bloom.bin`, rewritten at
 *   each spill, blocked, sized for `expectedKeys` at 16 bits a key: ~0.1% false positives),
 *   and a new log generation starts. A lookup that misses memory asks the filter, and only on a
 *   "maybe" reads one bucket of each run, newest first. Memory stays flat however many keys
 *   there are. The filter is 16 bits a key, not 10 (1%), because a false positive reads a bucket
 *   of every run: with 250k-key runs, at 5M keys those reads cost ~0.9 s of 11 s at 10 bits.
 *   The run and the filter are written side by side (two fsyncs in flight at once; not timed
 *   apart); a string key is hashed as encoded without building the encoded string.
 * - **Resume** reads only what it needs: the filter, each run's bucket table, and the log of
 *   the current generation up to the checkpoint's length; files written after the checkpoint
 *   (a later run, a later log, the log's tail) are removed. The filter may hold keys from after
 *   the checkpoint: it only ever answers "maybe", which a run lookup then settles.
 * - **TTL:** each key keeps the time it was added (the run's clock, so tests use virtual time); a
 *   key older than the TTL counts as absent and may be added again, and a run whose newest key
 *   has expired is dropped whole.
 */
import { StateError } from "../../../pipeline/errors.ts";
import type { Clock } from "../../../runtime/clock.ts";
import { fs, paths } from "../../../runtime/fs.ts";
import { Bloom, decodeKey, encodeKey, hash2, hashStateKey, type StateKey } from "./bloom.ts";
import { RunReader, writeRun } from "./run-file.ts";

export interface KeySetOptions {
  /** Directory of this state (created). */
  readonly dir: string;
  /** Keys held in memory before a spill to disk. */
  readonly memoryKeys: number;
  /** Keys the Bloom filter is sized for (more raise its false-positive rate, never its answers). */
  readonly expectedKeys: number;
  /** Milliseconds a key is remembered; undefined: for ever. */
  readonly ttlMs?: number;
  readonly clock: Clock;
}

/** What a checkpoint records of the key set: a few numbers, whatever its size. */
export interface KeySetToken {
  /** 2: the Bloom filter is blocked (`bloom.ts`); 1: classic (state of an older sluice). */
  readonly v: 1 | 2;
  readonly gen: number;
  readonly logBytes: number;
  readonly runs: readonly string[];
}

const encoder = new TextEncoder();
const BLOOM = "bloom.bin";
const logName = (gen: number) => `log-${gen}.ndjson`;

export class SpillingKeySet {
  /** Key → time added (time 0 without a TTL). */
  private mem = new Map<StateKey, number>();
  private delta: StateKey[] = [];
  private runs: RunReader[] = [];
  private bloom: Bloom | undefined;
  private gen = 0;
  private logBytes = 0;
  private nextRun = 0;
  /** Keys in `runs`. */
  private spilled = 0;
  private log: Awaited<ReturnType<typeof fs.openWriter>> | undefined;
  /** The time `has`/`add` use (set once per chunk by the caller: `now = clock.now()`). */
  now = 0;

  private constructor(private readonly o: KeySetOptions) {}

  static async open(o: KeySetOptions): Promise<SpillingKeySet> {
    // Files are opened when first written (or by `restore`), so a resumed run's are untouched.
    const s = new SpillingKeySet(o);
    await fs.mkdirp(o.dir, 0o700);
    s.now = o.clock.now();
    return s;
  }

  /** Keys held: in memory, plus those in runs not dropped (with a TTL, some may have expired). */
  get size(): number {
    return this.mem.size + this.spilled;
  }

  get spilledRuns(): number {
    return this.runs.length;
  }

  get wantsSpill(): boolean {
    return this.mem.size >= this.o.memoryKeys;
  }

  has(k: StateKey): boolean {
    const ttl = this.o.ttlMs;
    const t = this.mem.get(k);
    if (t !== undefined) return ttl === undefined || this.now - t < ttl;
    if (this.runs.length === 0) return false;
    const h1 = hashStateKey(k);
    if (!(this.bloom as Bloom).has(h1, hash2)) return false;
    const enc = encodeKey(k);
    for (let r = this.runs.length - 1; r >= 0; r--) {
      const added = this.runs[r].find(enc, h1);
      if (added !== undefined) return ttl === undefined || this.now - added < ttl;
    }
    return false;
  }

  /** `has(k)`, and when absent `add(k)`: whether it was added (one Map probe fewer). */
  addIfAbsent(k: StateKey): boolean {
    if (this.o.ttlMs === undefined && this.runs.length === 0) {
      const n = this.mem.size;
      this.mem.set(k, 0);
      if (this.mem.size === n) return false;
      this.delta.push(k);
      return true;
    }
    if (this.has(k)) return false;
    this.add(k);
    return true;
  }

  /** Adds a key `has` said is absent. */
  add(k: StateKey): void {
    if (this.o.ttlMs === undefined) this.mem.set(k, 0);
    else {
      this.mem.delete(k); // an expired entry: the new one goes last, in time order
      this.mem.set(k, this.now);
    }
    this.delta.push(k);
  }

  /** Writes the keys in memory as a run, and starts a new log generation. */
  async spill(): Promise<void> {
    const ttl = this.o.ttlMs;
    let keys: StateKey[] = [];
    const times: number[] = [];
    const hashes = new Uint32Array(this.mem.size);
    this.bloom ??= Bloom.forKeys(this.o.expectedKeys);
    const bloom = this.bloom;
    let strings = ttl === undefined;
    // forEach, not for-of over entries: no [key, time] pair a key. String keys go to the run as
    // they are, its writer adding the "s" of `encodeKey`: no new string a key.
    this.mem.forEach((t, k) => {
      if (ttl !== undefined && this.now - t >= ttl) return;
      const h = hashStateKey(k);
      bloom.add(h, hash2);
      hashes[keys.length] = h;
      keys.push(k);
      if (ttl !== undefined) times.push(t);
      else if (typeof k !== "string") strings = false;
    });
    if (!strings) keys = keys.map(encodeKey);
    const name = `run-${this.nextRun++}.keys`;
    const path = paths.join(this.o.dir, name);
    // Both are durable before a checkpoint can name the run; written side by side (two fsyncs).
    await Promise.all([
      writeRun(
        path,
        keys as string[],
        ttl === undefined ? undefined : times,
        hashes.subarray(0, keys.length),
        strings ? "s" : "",
      ),
      writeDurably(paths.join(this.o.dir, BLOOM), new Uint8Array(bloom.words.buffer)),
    ]);
    this.runs.push(RunReader.open(path));
    this.dropExpiredRuns();
    this.countSpilled();
    this.mem.clear();
    this.delta = [];
    await this.log?.close();
    this.gen++;
    this.logBytes = 0;
    this.log = await fs.openWriter(paths.join(this.o.dir, logName(this.gen)), { mode: 0o600 });
  }

  /** Appends the keys added since the last checkpoint to the log, fsynced; returns the token. */
  async checkpoint(): Promise<KeySetToken> {
    if (this.delta.length > 0) {
      const ttl = this.o.ttlMs;
      const entries = this.delta.map((k) =>
        ttl === undefined ? encodeKey(k) : [encodeKey(k), this.mem.get(k)],
      );
      const bytes = encoder.encode(`${JSON.stringify(entries)}\n`);
      this.log ??= await fs.openWriter(paths.join(this.o.dir, logName(this.gen)), { mode: 0o600 });
      await this.log.write(bytes);
      await this.log.sync();
      this.logBytes += bytes.length;
      this.delta = [];
    }
    return {
      v: this.bloom && !this.bloom.blocked ? 1 : 2,
      gen: this.gen,
      logBytes: this.logBytes,
      runs: this.runs.map((r) => paths.basename(r.path)),
    };
  }

  /** Goes back to the state of `token`, reading only its filter, run tables and log. */
  async restore(token: KeySetToken): Promise<void> {
    if (token.v !== 1 && token.v !== 2) {
      throw new StateError(
        `cannot resume: the dedupe state was written by a newer sluice (format ${token.v})`,
        {
          hint: "Resume with the sluice that started the run, or run again with --fresh.",
        },
      );
    }
    this.closeFiles();
    await this.log?.close();
    const dir = this.o.dir;
    const keep = new Set([...token.runs, logName(token.gen), BLOOM]);
    for (const f of await fs.readdir(dir)) if (!keep.has(f)) await fs.remove(paths.join(dir, f));
    const logPath = paths.join(dir, logName(token.gen));
    const info = await fs.stat(logPath);
    if ((info?.size ?? 0) < token.logBytes) {
      throw new StateError(
        `cannot resume: the state log ${logPath} has ${info?.size ?? 0} bytes but the checkpoint committed ${token.logBytes}`,
        { hint: "The run's state directory was removed or truncated. Run again with --fresh to start over." },
      );
    }
    if (info && info.size > token.logBytes) await fs.truncate(logPath, token.logBytes);
    this.runs = token.runs.map((name) => RunReader.open(paths.join(dir, name)));
    this.countSpilled();
    this.nextRun = 1 + Math.max(-1, ...token.runs.map((n) => Number(/\d+/.exec(n)?.[0] ?? -1)));
    this.bloom = undefined;
    if (this.runs.length > 0) {
      const bytes = await fs.readBytes(paths.join(dir, BLOOM));
      this.bloom = new Bloom(bytes.length * 8, 7, new Uint32Array(bytes.slice().buffer), token.v !== 1);
    }
    this.mem.clear();
    this.delta = [];
    if (token.logBytes > 0) {
      for (const line of (await fs.readText(logPath)).split("\n")) {
        if (!line) continue;
        for (const e of JSON.parse(line) as Array<string | [string, number]>) {
          if (typeof e === "string") this.mem.set(decodeKey(e), 0);
          else this.mem.set(decodeKey(e[0]), e[1]);
        }
      }
    }
    this.gen = token.gen;
    this.logBytes = token.logBytes;
    this.log = await fs.openWriter(logPath, { append: true, mode: 0o600 });
  }

  /** Restores a whole-set snapshot of an older sluice (keys in the checkpoint itself). */
  restoreKeys(keys: readonly StateKey[]): void {
    for (const k of keys) {
      this.mem.set(k, this.o.ttlMs === undefined ? 0 : this.now);
      this.delta.push(k);
    }
  }

  async close(): Promise<void> {
    this.closeFiles();
    await this.log?.close();
    this.log = undefined;
  }

  private dropExpiredRuns(): void {
    const ttl = this.o.ttlMs;
    if (ttl === undefined) return;
    const live = this.runs.filter((r) => this.now - r.header.maxTime < ttl);
    for (const r of this.runs) if (!live.includes(r)) r.close();
    this.runs = live;
  }

  private countSpilled(): void {
    this.spilled = 0;
    for (const r of this.runs) this.spilled += r.header.count;
  }

  private closeFiles(): void {
    for (const r of this.runs) r.close();
    this.runs = [];
    this.spilled = 0;
  }
}

async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const w = await fs.openWriter(tmp, { mode: 0o600 });
  try {
    await w.write(bytes);
    await w.sync();
  } finally {
    await w.close();
  }
  await fs.rename(tmp, path);
}
