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
 * B reads those records again and would letter them twice. So a stage that
 * says it cuts at barriers (`align`) has its letters cut as B passes it
 * (`cut`), and B's flush writes only what was cut at B or before; letters of
 * other stages are written at the next flush, as before.
 */
import type { EventOf } from "../../events/schema.ts";
import { type FileWriter, fs } from "../../runtime/fs.ts";

interface Letters {
  readonly text: string[];
  count: number;
  lines: number;
}

const none = (): Letters => ({ text: [], count: 0, lines: 0 });

export class DeadLetterFile {
  /** Per stage that cuts at barriers: its letters since its last cut, and its cuts not yet written. */
  readonly #aligned = new Map<string, { pending: Letters; cuts: Array<{ id: number; letters: Letters }> }>();
  /** Letters of the other stages, written at the next flush. */
  #loose: Letters = none();
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

  /** `stage` calls `cut` as each barrier passes it: a checkpoint writes only its letters cut by then. */
  align(stage: string): void {
    if (!this.#aligned.has(stage)) this.#aligned.set(stage, { pending: none(), cuts: [] });
  }

  /** A letter `stage` (the one whose context lettered it) wrote. */
  add(event: EventOf<"dead.letter">, stage: string = event.stage): void {
    const to = this.#aligned.get(stage)?.pending ?? this.#loose;
    to.text.push(safeJson(event));
    to.count++;
    to.lines += event.position.lines ?? 0;
  }

  /** Barrier `id` passed `stage`: what it lettered so far belongs to checkpoint `id`. */
  cut(stage: string, id: number): void {
    const a = this.#aligned.get(stage);
    if (!a) return;
    a.cuts.push({ id, letters: a.pending });
    a.pending = none();
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
   * Writes the letters of checkpoint `upTo` (those cut at it or before, and
   * every other stage's); without `upTo`, every letter (the end of the run).
   */
  async flush(sync: boolean, upTo?: number): Promise<void> {
    const due: Letters[] = [this.#loose];
    this.#loose = none();
    for (const a of this.#aligned.values()) {
      let k = 0;
      while (k < a.cuts.length && (upTo === undefined || a.cuts[k].id <= upTo)) due.push(a.cuts[k++].letters);
      a.cuts.splice(0, k);
      if (upTo === undefined) {
        due.push(a.pending);
        a.pending = none();
      }
    }
    const text = due.flatMap((l) => l.text);
    if (text.length === 0) return;
    this.#writer ??= await fs.openWriter(this.path, { append: true, mode: 0o600 });
    const bytes = this.#encoder.encode(`${text.join("\n")}\n`);
    await this.#writer.write(bytes);
    this.#bytes += bytes.length;
    for (const l of due) {
      this.#count += l.count;
      this.#lines += l.lines;
    }
    if (sync) await this.#writer.sync();
  }

  async close(): Promise<void> {
    await this.flush(true);
    await this.#writer?.close();
    this.#writer = undefined;
  }
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
