/**
 * @module How many records go in one cluster task. A task costs a publish, a pull, a result
 * request and an ack (about a millisecond of round trips, measured in `benchmarks/cluster`), so
 * `"auto"` aims at ~100 ms of worker time per task from the measured cost per record (moving
 * average), starting at 32 records, never over 4,096 or over ~256 KB of results.
 */
const TARGET_MS = 100;
const MAX_RECORDS = 4096;
const MAX_BYTES = 256 * 1024;

export class TaskSizer {
  #msPerRecord = -1;
  #bytesPerRecord = 0;
  #size: number;

  constructor(readonly batch: number | "auto") {
    this.#size = batch === "auto" ? 32 : batch;
  }

  size(): number {
    return this.#size;
  }

  observe(records: number, ms: number, bytes: number): void {
    if (this.batch !== "auto" || records === 0) return;
    const cost = ms / records;
    const b = bytes / records;
    this.#msPerRecord = this.#msPerRecord < 0 ? cost : this.#msPerRecord * 0.8 + cost * 0.2;
    this.#bytesPerRecord = this.#bytesPerRecord === 0 ? b : this.#bytesPerRecord * 0.8 + b * 0.2;
    const byTime = this.#msPerRecord > 0 ? TARGET_MS / this.#msPerRecord : MAX_RECORDS;
    const byBytes = MAX_BYTES / Math.max(1, this.#bytesPerRecord);
    this.#size = Math.max(1, Math.min(MAX_RECORDS, Math.floor(byTime), Math.floor(byBytes)));
  }
}
