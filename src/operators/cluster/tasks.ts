/**
 * @module The coordinator's table of tasks in flight: which records of which `run()` call each
 * task carries, its stream sequence once published (the max-deliveries advisory names only
 * that), and who took it. Results land here by task id (a duplicate, or one for a task already
 * split or finished, is ignored), and a `run()` call resolves when its last task is done.
 */
import type { RecordFailure, RunResult, SerializedError } from "../internal/pool-protocol.ts";

export interface Batch<I, O> {
  readonly values: Array<O | undefined>;
  readonly failures: Array<RecordFailure<I>>;
  remaining: number;
  readonly resolve: (r: RunResult<I, O>) => void;
  readonly reject: (e: unknown) => void;
}

export interface Task<I, O> {
  readonly id: number;
  readonly batch: Batch<I, O>;
  readonly offset: number;
  readonly records: readonly I[];
  seq: number;
  taken: boolean;
  /** When it was last published (monotonic ms), and how many times. */
  sentAt: number;
  sends: number;
  readonly takers: Set<string>;
}

export type TaskFailure = readonly [index: number, error: SerializedError, attempts: number];

export function newBatch<I, O>(
  size: number,
  resolve: (r: RunResult<I, O>) => void,
  reject: (e: unknown) => void,
): Batch<I, O> {
  return { values: new Array(size), failures: [], remaining: 0, resolve, reject };
}

export class TaskTable<I, O> {
  readonly #tasks = new Map<number, Task<I, O>>();
  readonly #bySeq = new Map<number, number>();
  readonly #idle: Array<() => void> = [];
  #nextId = 1;

  get size(): number {
    return this.#tasks.size;
  }

  values(): IterableIterator<Task<I, O>> {
    return this.#tasks.values();
  }

  get(id: number): Task<I, O> | undefined {
    return this.#tasks.get(id);
  }

  bySeq(seq: number): Task<I, O> | undefined {
    const id = this.#bySeq.get(seq);
    return id === undefined ? undefined : this.#tasks.get(id);
  }

  add(batch: Batch<I, O>, offset: number, records: readonly I[]): Task<I, O> {
    const task: Task<I, O> = {
      id: this.#nextId++,
      batch,
      offset,
      records,
      seq: 0,
      taken: false,
      sentAt: 0,
      sends: 0,
      takers: new Set(),
    };
    this.#tasks.set(task.id, task);
    batch.remaining++;
    return task;
  }

  published(task: Task<I, O>, seq: number): void {
    if (!this.#tasks.has(task.id)) return;
    if (task.seq) this.#bySeq.delete(task.seq);
    task.seq = seq;
    this.#bySeq.set(seq, task.id);
  }

  /** Replaces `task` by tasks of `parts` records each (1: one per record); returns them to send. */
  split(task: Task<I, O>, parts: number): Array<Task<I, O>> {
    if (!this.#remove(task)) return [];
    const out: Array<Task<I, O>> = [];
    const size = Math.ceil(task.records.length / parts);
    for (let at = 0; at < task.records.length; at += size)
      out.push(this.add(task.batch, task.offset + at, task.records.slice(at, at + size)));
    task.batch.remaining--;
    return out;
  }

  /** Tasks published before `before` (monotonic ms) with no sign of them since. */
  stale(before: number): Array<Task<I, O>> {
    const out: Array<Task<I, O>> = [];
    for (const t of this.#tasks.values()) if (t.sentAt > 0 && t.sentAt < before) out.push(t);
    return out;
  }

  /** Lands a task's outcome: values by index, failures with their attempts. False if not in flight. */
  complete(task: Task<I, O>, values: readonly unknown[], failures: ReadonlyArray<TaskFailure>): boolean {
    if (!this.#remove(task)) return false;
    const b = task.batch;
    const failed = new Set<number>();
    for (const [index, error, attempts] of failures) {
      failed.add(index);
      b.failures.push({ index: task.offset + index, record: task.records[index], error, attempts });
    }
    for (let i = 0; i < task.records.length; i++)
      if (!failed.has(i)) b.values[task.offset + i] = values[i] as O;
    this.settle(b);
    this.#checkIdle();
    return true;
  }

  /** Holds `batch` open while some of its records are not cut into tasks yet; `settle` lets go. */
  hold(batch: Batch<I, O>): void {
    batch.remaining++;
  }

  /** One part of `batch` is done: resolves the `run()` call when it was the last. */
  settle(b: Batch<I, O>): void {
    if (--b.remaining === 0) {
      b.failures.sort((x, y) => x.index - y.index);
      b.resolve({ values: b.values, failures: b.failures });
    }
  }

  /** Fails every `run()` call with tasks in flight. */
  fail(error: Error): void {
    const batches = new Set<Batch<I, O>>();
    for (const t of this.#tasks.values()) batches.add(t.batch);
    this.#tasks.clear();
    this.#bySeq.clear();
    for (const b of batches) b.reject(error);
    this.#checkIdle();
  }

  /** Resolves when no task is in flight. */
  drain(): Promise<void> {
    if (this.#tasks.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #remove(task: Task<I, O>): boolean {
    if (!this.#tasks.delete(task.id)) return false;
    this.#bySeq.delete(task.seq);
    return true;
  }

  #checkIdle(): void {
    if (this.#tasks.size === 0) for (const f of this.#idle.splice(0)) f();
  }
}
