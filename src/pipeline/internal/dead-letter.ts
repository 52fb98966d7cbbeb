/**
 * @module The run's dead-letter file: one JSON line per record that could not
 * be processed, with stage, reason, error, attempts, position and the raw text
 * or record. Lines are buffered and written at each checkpoint and at the end,
 * so the file is exactly as long as the checkpoint says (its length is part of
 * the checkpoint; resume truncates anything written after it).
 */
import type { EventOf } from "../../events/schema.ts";
import { type FileWriter, fs } from "../../runtime/fs.ts";

export class DeadLetterFile {
  #pending: string[] = [];
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

  add(event: EventOf<"dead.letter">): void {
    this.#pending.push(safeJson(event));
    this.#count++;
    this.#lines += event.position.lines ?? 0;
  }

  get count(): number {
    return this.#count;
  }

  /** Input lines the dead-lettered records cover (those whose source says so: file sources). */
  get lines(): number {
    return this.#lines;
  }

  /** Bytes durable in the file after the last flush. */
  get bytes(): number {
    return this.#bytes;
  }

  async flush(sync: boolean): Promise<void> {
    if (this.#pending.length === 0) return;
    const text = `${this.#pending.join("\n")}\n`;
    this.#pending = [];
    this.#writer ??= await fs.openWriter(this.path, { append: true, mode: 0o600 });
    const bytes = this.#encoder.encode(text);
    await this.#writer.write(bytes);
    this.#bytes += bytes.length;
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
