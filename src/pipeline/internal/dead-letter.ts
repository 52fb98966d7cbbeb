/**
 * @module The run's dead-letter file: one JSON line per record that could not
 * be processed, with stage, reason, error, attempts, position and the raw text
 * or record. Lines are buffered and written at each checkpoint and at the end,
 * so the file is exactly as long as the checkpoint says (its length is part of
 * the checkpoint; resume truncates anything written after it).
 *
 * A stage goes on working while a barrier travels to the sink, so when
 * checkpoint B is taken the buffer may already hold letters of records after
 * B (the source reads ahead). Those must not be in B's length: a resume from
 * B reads those records again and would letter them twice; nor may a letter
 * of a record before B be left out of it, or the resume loses it. So:
 *
 * - a chunk stage (and the source) has its letters cut as B passes it
 *   (`align`, `cut`): it handles chunks in order, B among them;
 * - a stream stage (`mapAsync`, `parallelMap`, `rx`) works on records on
 *   both sides of B at once, so its letters that name their chunk
 *   (`position.chunk`, the source chunk's `seq`) are due with the first
 *   barrier after that chunk (`barrierAfter`);
 * - a stop drops the chunks the source had read for the pull in progress:
 *   their source letters (made since `mark`) are cut out of the stop's
 *   checkpoint;
 * - other letters (a side sink's, lettered while its checkpoint commits) go
 *   with the next flush, which is that checkpoint's.
 *
 * B's flush writes what is due at B; the end of the run writes everything.
 */
import type { EventOf } from "../../events/schema.ts";
import { type FileWriter, fs } from "../../runtime/fs.ts";
import { describeError, StateError } from "../errors.ts";

/** Letters as JSON lines, with the input lines each covers. */
interface Letters {
  readonly text: string[];
  readonly lines: number[];
}

const none = (): Letters => ({ text: [], lines: [] });

interface SeqLetter {
  readonly stage: string;
  readonly seq: number;
  readonly text: string;
  readonly lines: number;
}

interface Aligned {
  /** Letters by chunk `seq` (a stream stage's) instead of by cut. */
  readonly bySeq: boolean;
  pending: Letters;
  readonly cuts: Array<{ readonly id: number; readonly letters: Letters }>;
}

export class DeadLetterFile {
  readonly #aligned = new Map<string, Aligned>();
  /** Letters of other stages, written at the next flush. */
  #loose: Letters = none();
  /** Stream stages' letters that name their chunk, with its seq. */
  #bySeq: SeqLetter[] = [];
  /** Per barrier id: the seq of the last source chunk before it. */
  readonly #barrierSeq = new Map<number, number>();
  /** Per aligned stage: letters it wrote that no flush has written yet. */
  readonly #unwritten = new Map<string, number>();
  #writer: FileWriter | undefined;
  #bytes = 0;
  #count = 0;
  #lines = 0;
  readonly #encoder = new TextEncoder();

  constructor(readonly path: string) {}

  /** On resume: keep exactly the first `bytes` bytes written before the checkpoint. */
  async restore(bytes: number, count: number, lines = 0): Promise<void> {
    const info = await fs.stat(this.path);
    if (info && info.size > bytes) await fs.truncate(this.path, bytes);
    this.#bytes = bytes;
    this.#count = count;
    this.#lines = lines;
  }

  /**
   * `stage` calls `cut` as each barrier passes it; with `bySeq` (a stream
   * stage), its letters that name their chunk are due by chunk instead.
   */
  align(stage: string, bySeq = false): void {
    if (!this.#aligned.has(stage)) this.#aligned.set(stage, { bySeq, pending: none(), cuts: [] });
  }

  /**
   * A letter the stage `stage` wrote, cut with it; with `stage` undefined, a
   * letter written by the next flush (a side sink's, lettered while its
   * checkpoint commits).
   */
  add(event: EventOf<"dead.letter">, stage: string | undefined): void {
    const a = stage === undefined ? undefined : this.#aligned.get(stage);
    const text = safeJson(event);
    const lines = event.position.lines ?? 0;
    const seq = event.position.chunk;
    if (stage !== undefined && a) this.#unwritten.set(stage, (this.#unwritten.get(stage) ?? 0) + 1);
    if (stage !== undefined && a?.bySeq && typeof seq === "number" && seq >= 0) {
      this.#bySeq.push({ stage, seq, text, lines });
      return;
    }
    const to = a?.pending ?? this.#loose;
    to.text.push(text);
    to.lines.push(lines);
  }

  /** Letters `stage` holds since its last cut (see `cut`'s `first`). */
  mark(stage: string): number {
    return this.#aligned.get(stage)?.pending.text.length ?? 0;
  }

  /**
   * Barrier `id` passed `stage`: what it lettered so far belongs to checkpoint
   * `id`; with `first`, only its first `first` letters since the last cut (the
   * rest are of records the barrier dropped).
   */
  cut(stage: string, id: number, first?: number): void {
    const a = this.#aligned.get(stage);
    if (!a) return;
    const p = a.pending;
    if (first === undefined || first >= p.text.length) {
      a.cuts.push({ id, letters: p });
      a.pending = none();
      return;
    }
    a.cuts.push({ id, letters: { text: p.text.slice(0, first), lines: p.lines.slice(0, first) } });
    a.pending = { text: p.text.slice(first), lines: p.lines.slice(first) };
  }

  /** Barrier `id` left the source after the chunk numbered `seq` (-1: none yet). */
  barrierAfter(id: number, seq: number): void {
    this.#barrierSeq.set(id, seq);
  }

  /**
   * Letters `stage` wrote that are not in the file yet (after a checkpoint's
   * flush: those of records after its barrier, and of a pull a stop dropped).
   * The stage's meter less these is what the checkpoint holds of it.
   */
  unwritten(stage: string): number {
    return this.#unwritten.get(stage) ?? 0;
  }

  #written(stage: string, n: number): void {
    if (n > 0) this.#unwritten.set(stage, (this.#unwritten.get(stage) ?? 0) - n);
  }

  /** Letters written to the file (by the last flush). */
  get count(): number {
    return this.#count;
  }

  /** Input lines the written letters cover (those whose source says so: file sources). */
  get lines(): number {
    return this.#lines;
  }

  /** Bytes durable in the file after the last flush. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Writes the letters due at checkpoint `upTo` (see the module comment);
   * without `upTo`, every letter (the end of the run).
   */
  async flush(sync: boolean, upTo?: number): Promise<void> {
    const text: string[] = this.#loose.text;
    let lines = sum(this.#loose.lines);
    this.#loose = none();
    for (const [stage, a] of this.#aligned) {
      let k = 0;
      while (k < a.cuts.length && (upTo === undefined || a.cuts[k].id <= upTo)) {
        append(text, a.cuts[k].letters.text);
        lines += sum(a.cuts[k].letters.lines);
        this.#written(stage, a.cuts[k].letters.text.length);
        k++;
      }
      a.cuts.splice(0, k);
      if (upTo === undefined) {
        append(text, a.pending.text);
        lines += sum(a.pending.lines);
        this.#written(stage, a.pending.text.length);
        a.pending = none();
      }
    }
    const last = upTo === undefined ? Number.POSITIVE_INFINITY : (this.#barrierSeq.get(upTo) ?? -1);
    if (upTo !== undefined)
      for (const id of this.#barrierSeq.keys()) if (id <= upTo) this.#barrierSeq.delete(id);
    if (this.#bySeq.length > 0) {
      const kept: SeqLetter[] = [];
      for (const l of this.#bySeq) {
        if (l.seq <= last) {
          text.push(l.text);
          lines += l.lines;
          this.#written(l.stage, 1);
        } else kept.push(l);
      }
      this.#bySeq = kept;
    }
    if (text.length === 0) return;
    const bytes = this.#encoder.encode(`${text.join("\n")}\n`);
    try {
      this.#writer ??= await fs.openWriter(this.path, { append: true, mode: 0o600 });
      await this.#writer.write(bytes);
      if (sync) await this.#writer.sync();
    } catch (e) {
      // A full or failing state directory: said as such, not as the stage that was committing.
      throw new StateError(`could not write the dead-letter file ${this.path}: ${describeError(e)}`, {
        cause: e,
        hint: "Free space on its device (or set SLUICE_HOME to another directory), then run the same command again: it continues from the last checkpoint.",
      });
    }
    this.#bytes += bytes.length;
    this.#count += text.length;
    this.#lines += lines;
  }

  async close(): Promise<void> {
    await this.flush(true);
    await this.#writer?.close();
    this.#writer = undefined;
  }
}

/** `to.push(...from)` without the spread's argument limit (a checkpoint may hold 100,000s of letters). */
function append(to: string[], from: readonly string[]): void {
  for (const x of from) to.push(x);
}

function sum(xs: readonly number[]): number {
  let n = 0;
  for (const x of xs) n += x;
  return n;
}

/** JSON that never throws: bigints as strings, cycles and functions marked. */
export function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "function") return "[function]";
    if (v instanceof Error) return { name: v.name, message: v.message };
    if (typeof v === "object" && v !== null) {
      if (seen.has(v)) return "[circular]";
      seen.add(v);
    }
    return v;
  });
}
