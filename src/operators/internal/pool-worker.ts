/**
 * @module Entry point of every pool worker thread. It loads the user's module, checks that the
 * default export is a function (so a bad path or export fails at pool start, not on record one),
 * then maps batches. Per record it only writes a progress counter in shared memory: that is what
 * lets the parent blame the exact record a crash or hang happened on without any per-record
 * message. Sync functions stay on a plain loop; the first promise switches that batch to awaiting.
 * Nearly self-contained on purpose (type-only imports, plus the runtime's thread port) so a
 * worker starts fast.
 */
import { workerPort } from "../../runtime/worker-port.ts";
import type { FromWorker, SerializedError, ToWorker } from "./pool-protocol.ts";

interface BootData {
  moduleUrl: string;
  mode: "record" | "chunk";
  progress: SharedArrayBuffer | null;
}
type RunMessage = Extract<ToWorker, { t: "run" }>;
type Fn = (input: unknown) => unknown;

const port = workerPort();
const data = port.data as BootData;
// [0] = seq of the batch being run, [1] = records of it finished. Plain memory if SAB is missing.
// Per record it is a plain store (aligned int32 writes cannot tear; the parent samples with
// Atomics.load once per tick): Atomics.store costs 30-40 ns per record on V8, a plain one ~1 ns.
// The once-per-batch reset stays atomic so [1] = 0 is visible before the new [0].
const progress = new Int32Array(data.progress ?? new ArrayBuffer(8));
const queue: RunMessage[] = [];
let busy = false;
let fn: Fn = () => undefined;

const send = (message: FromWorker): void => port.post(message);

function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      ...(typeof code === "string" ? { code } : {}),
    };
  }
  let message: string;
  try {
    message = typeof error === "string" ? error : JSON.stringify(error);
  } catch {
    message = String(error);
  }
  return { name: "NonErrorThrown", message: `a non-Error value was thrown: ${message}` };
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null &&
  (typeof v === "object" || typeof v === "function") &&
  typeof (v as { then?: unknown }).then === "function";

function finish(
  m: RunMessage,
  values: unknown[],
  errors: Array<[number, SerializedError]> | null,
  t0: number,
): void {
  const ms = performance.now() - t0;
  try {
    send({ t: "done", seq: m.seq, values, errors, failed: null, ms });
  } catch {
    // Some results cannot cross threads (functions, sockets...): fail just those records.
    const errs = errors ?? [];
    for (let i = 0; i < values.length; i++) {
      try {
        structuredClone(values[i]);
      } catch (error) {
        values[i] = undefined;
        const e = serializeError(error);
        errs.push([
          i,
          { ...e, message: `the result for this record cannot be sent back from the worker: ${e.message}` },
        ]);
      }
    }
    send({ t: "done", seq: m.seq, values, errors: errs, failed: null, ms });
  }
}

async function finishAsync(
  m: RunMessage,
  values: unknown[],
  errors: Array<[number, SerializedError]> | null,
  from: number,
  first: PromiseLike<unknown>,
  t0: number,
): Promise<void> {
  const records = m.records;
  for (let i = from; i < records.length; i++) {
    try {
      values[i] = await (i === from ? first : fn(records[i]));
    } catch (error) {
      errors ??= [];
      errors.push([i, serializeError(error)]);
    }
    progress[1] = i + 1;
  }
  finish(m, values, errors, t0);
}

function runRecords(m: RunMessage, t0: number): Promise<void> | undefined {
  const records = m.records;
  const n = records.length;
  const values = new Array<unknown>(n);
  let errors: Array<[number, SerializedError]> | null = null;
  for (let i = 0; i < n; i++) {
    let v: unknown;
    try {
      v = fn(records[i]);
    } catch (error) {
      errors ??= [];
      errors.push([i, serializeError(error)]);
      progress[1] = i + 1;
      continue;
    }
    if (isThenable(v)) return finishAsync(m, values, errors, i, v, t0);
    values[i] = v;
    progress[1] = i + 1;
  }
  finish(m, values, errors, t0);
  return undefined;
}

async function runChunk(m: RunMessage, t0: number): Promise<void> {
  let failed: SerializedError | null = null;
  let values: unknown[] = [];
  try {
    const out = await fn(m.records);
    if (!Array.isArray(out) || out.length !== m.records.length) {
      const got = Array.isArray(out) ? `an array of ${out.length}` : typeof out;
      throw new TypeError(
        `a chunk function must return one result per input record (${m.records.length}), got ${got}`,
      );
    }
    values = out;
  } catch (error) {
    failed = serializeError(error);
  }
  progress[1] = m.records.length;
  if (failed) send({ t: "done", seq: m.seq, values: [], errors: null, failed, ms: performance.now() - t0 });
  else finish(m, values, null, t0);
}

function pump(): void {
  busy = true;
  while (queue.length > 0) {
    const m = queue.shift()!;
    const t0 = performance.now();
    Atomics.store(progress, 1, 0);
    Atomics.store(progress, 0, m.seq);
    const pending = data.mode === "chunk" ? runChunk(m, t0) : runRecords(m, t0);
    if (pending) {
      void pending.then(pump);
      return;
    }
  }
  busy = false;
}

async function main(): Promise<void> {
  let mod: { default?: unknown };
  try {
    mod = await import(data.moduleUrl);
  } catch (error) {
    const e = serializeError(error);
    return send({ t: "init-error", error: { ...e, message: `could not be loaded: ${e.message}` } });
  }
  if (typeof mod.default !== "function") {
    const got =
      mod.default === undefined ? "no default export" : `a default export of type ${typeof mod.default}`;
    return send({
      t: "init-error",
      error: {
        name: "TypeError",
        message: `must default-export the function to run (export default function (record) {...}); it has ${got}`,
      },
    });
  }
  fn = mod.default as Fn;
  port.onMessage((message) => {
    const m = message as ToWorker;
    if (m.t === "ping") return send({ t: "pong" });
    queue.push(m);
    if (!busy) pump();
  });
  send({ t: "ready" });
}

void main();
