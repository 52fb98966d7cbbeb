/**
 * @module Options of the worker pool: what users write (`"auto"`, `{ min, max }`, `"30s"`) turned
 * into plain numbers once, so the scheduler never re-parses, plus the backoff formula. The
 * defaults are chosen here and documented on each field.
 */
import { ConfigError } from "../../pipeline/errors.ts";
import { type Duration, toMillis } from "../../pipeline/units.ts";
import type { PoolEvent } from "./pool-protocol.ts";

export interface PoolConfigInput {
  /** `"record"` (default): the default export maps one record. `"chunk"`: it maps an array. */
  mode?: "record" | "chunk";
  /** `"auto"` (default: cores − 1, at least 1), a fixed count, or warm `min` scaling up to `max`. */
  workers?: "auto" | number | { min: number; max: number };
  /** Longest one call of the function may run (per record; per batch in chunk mode). Default 30s. */
  timeout?: Duration | false;
  /** Extra attempts after the first (default 2); a record failing all of them is returned failed. */
  retries?: number;
  /** Exponential backoff between attempts; `jitter` is the randomised share (default 0.5). */
  backoff?: { initial?: Duration; max?: Duration; jitter?: number };
  /** Records per message, or `"auto"` (default): sized from measured record cost, up to 1024. */
  batch?: number | "auto";
  /** Batches in flight per worker, or `"auto"` (default): 2 to 8, about 20 ms of queued work. */
  pipeline?: number | "auto";
  /** Idle workers are pinged every `interval` (1s) and replaced if silent for `timeout` (5s). */
  heartbeat?: { interval?: Duration; timeout?: Duration };
  /** Workers above `min` stop after being idle this long. Default 30s. */
  idleTimeout?: Duration;
  /** A worker that is not ready this long after spawning is replaced. Default 30s. */
  startTimeout?: Duration;
  /** Heap limit per worker in MiB (Node `resourceLimits`; Bun and Deno ignore it). */
  maxMemoryMB?: number;
  onEvent?: (event: PoolEvent) => void;
}

/** Every option name of {@link PoolConfigInput}, for rejecting unknown ones (checked complete below). */
export const POOL_OPTION_NAMES = [
  "mode",
  "workers",
  "timeout",
  "retries",
  "backoff",
  "batch",
  "pipeline",
  "heartbeat",
  "idleTimeout",
  "startTimeout",
  "maxMemoryMB",
  "onEvent",
] as const satisfies ReadonlyArray<keyof PoolConfigInput>;
// A compile error here means a PoolConfigInput field is missing from POOL_OPTION_NAMES.
const _allNamed: Record<Exclude<keyof PoolConfigInput, (typeof POOL_OPTION_NAMES)[number]>, never> = {};
void _allNamed;

export interface PoolConfig {
  mode: "record" | "chunk";
  min: number;
  max: number;
  timeoutMs: number;
  retries: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  jitter: number;
  batch: number | "auto";
  pipeline: number | "auto";
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  idleTimeoutMs: number;
  startTimeoutMs: number;
  maxMemoryMB: number | null;
}

const ms = (value: Duration | false | undefined, fallback: number, what: string): number =>
  value === undefined ? fallback : value === false ? Number.POSITIVE_INFINITY : toMillis(value, what);

function bad(what: string, expected: string, got: unknown): never {
  throw new ConfigError(`parallelMap(): ${what}: expected ${expected}, got ${JSON.stringify(got)}`, {
    hint: "See the documentation of parallelMap() for the accepted options.",
  });
}

/** Fills defaults and checks ranges; `cores` comes from the runtime. */
export function resolvePoolConfig(input: PoolConfigInput, cores: number): PoolConfig {
  const w = input.workers ?? "auto";
  const auto = Math.max(1, cores - 1);
  const [min, max] = w === "auto" ? [auto, auto] : typeof w === "number" ? [w, w] : [w.min, w.max];
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < 1 || min > max) {
    bad("workers", '"auto", a count >= 1, or { min, max } with 0 <= min <= max and max >= 1', w);
  }
  const batch = input.batch ?? "auto";
  if (batch !== "auto" && !(Number.isInteger(batch) && batch >= 1))
    bad("batch", '"auto" or an integer >= 1', batch);
  const pipeline = input.pipeline ?? "auto";
  const retries = input.retries ?? 2;
  if (!(Number.isInteger(retries) && retries >= 0)) bad("retries", "an integer >= 0", retries);
  const heartbeatIntervalMs = ms(input.heartbeat?.interval, 1000, "heartbeat.interval");
  return {
    mode: input.mode ?? "record",
    min,
    max,
    timeoutMs: ms(input.timeout, 30_000, "timeout"),
    retries,
    backoffInitialMs: ms(input.backoff?.initial, 25, "backoff.initial"),
    backoffMaxMs: ms(input.backoff?.max, 2000, "backoff.max"),
    jitter: Math.min(1, Math.max(0, input.backoff?.jitter ?? 0.5)),
    batch,
    pipeline: pipeline === "auto" ? "auto" : Math.max(1, Math.floor(pipeline)),
    heartbeatIntervalMs,
    heartbeatTimeoutMs: ms(input.heartbeat?.timeout, heartbeatIntervalMs * 5, "heartbeat.timeout"),
    idleTimeoutMs: ms(input.idleTimeout, 30_000, "idleTimeout"),
    startTimeoutMs: ms(input.startTimeout, 30_000, "startTimeout"),
    maxMemoryMB: input.maxMemoryMB ?? null,
  };
}

/** Delay before attempt `attempt + 1`: doubling from `initial`, capped at `max`, `jitter` of it random. */
export function backoffDelay(config: PoolConfig, attempt: number, random: () => number): number {
  const base = Math.min(config.backoffMaxMs, config.backoffInitialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - config.jitter) + base * config.jitter * random());
}
