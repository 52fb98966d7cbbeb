/**
 * @module The pieces of `sluice worker`'s engine (`worker.ts`) that need no connection: the
 * result message (values JSON cannot carry, and outputs over the server's max_payload, fail
 * their own record with the reason), the slot count of tasks in hand, and the checks on the
 * client's errors.
 */
import type { SerializedError } from "../internal/pool-protocol.ts";
import type { WorkerPool } from "../internal/worker-pool.ts";
import type { WorkerIdentity, WorkerReport } from "./protocol.ts";

/**
 * The result as JSON. An output JSON cannot carry (a BigInt, a cycle) fails its record with a
 * clear reason instead of failing the task, so one bad value never loses the others.
 */
export function resultReport(
  me: WorkerIdentity,
  t: number,
  result: Awaited<ReturnType<WorkerPool["run"]>>,
  ms: number,
  n: number,
  maxPayload = 1024 * 1024,
): { json: string; failures: number } {
  const f = result.failures.map((x) => [x.index, x.error, x.attempts] as [number, SerializedError, number]);
  const v = result.values.map((x) => x ?? null);
  const encode = () => JSON.stringify({ k: "result", t, w: me, v, f, ms, n } satisfies WorkerReport);
  let json: string | undefined;
  try {
    json = encode();
  } catch {
    for (let i = 0; i < v.length; i++) {
      try {
        JSON.stringify(v[i]);
      } catch (e) {
        v[i] = null;
        const why = e instanceof Error ? e.message : String(e);
        f.push([
          i,
          {
            name: "NotJson",
            message: `the output cannot be sent back as JSON (${why}); return plain JSON values (e.g. String(bigint))`,
          },
          1,
        ]);
      }
    }
    json = encode();
  }
  // Over the server's max_payload: fail the largest outputs, with the reason, until it fits.
  const limit = maxPayload - 4096;
  if (json.length > limit) {
    const sizes = v.map((x, i) => [i, JSON.stringify(x)?.length ?? 0] as const).sort((a, b) => b[1] - a[1]);
    let over = new TextEncoder().encode(json).length - limit;
    for (const [i, size] of sizes) {
      if (over <= 0) break;
      v[i] = null;
      f.push([
        i,
        {
          name: "ResultTooLarge",
          message: `the output is ${size} bytes as JSON and the task's results exceed the NATS server's max_payload (${maxPayload}); raise max_payload, return less, or use smaller tasks (batch)`,
        },
        1,
      ]);
      over -= size;
    }
    json = encode();
  }
  f.sort((a, b) => a[0] - b[0]);
  return { json: encode(), failures: f.length };
}

/** A job that could not run here is tried again on an announcement this long after. */
export const JOB_RETRY_MS = 10_000;

/** Acks, naks and renewals on a connection that closed or drains throw: nothing to do then. */
export function quietly(f: () => void): void {
  try {
    f();
  } catch {
    // the server redelivers after the ack wait
  }
}

export function isNoResponders(e: unknown): boolean {
  const r = e as { isNoResponders?: () => boolean; message?: string };
  return typeof r?.isNoResponders === "function"
    ? r.isNoResponders()
    : /no responders/i.test(String(r?.message));
}

export function isTimeout(e: unknown): boolean {
  return /timeout/i.test(
    `${(e as Error)?.name} ${(e as Error)?.message} ${String((e as Error)?.cause ?? "")}`,
  );
}

/** Tasks in hand at once: a counting semaphore whose waiters `wake()` releases (to stop). */
export class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];
  constructor(n: number) {
    this.#free = n;
  }
  acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
  /** Lets every waiter through (they check for a stop and give the slot back). */
  wake(): void {
    for (const w of this.#waiting.splice(0)) {
      this.#free--;
      w();
    }
  }
}
