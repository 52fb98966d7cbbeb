/**
 * @module A promise chain that runs tasks one at a time: a DuckDB connection
 * runs one statement (or transaction) at a time, and callers (HTTP handlers,
 * timers) arrive concurrently.
 */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => {});
    return result;
  }
}
