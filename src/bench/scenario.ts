/**
 * @module What a benchmark scenario is: a data generator, a sluice pipeline
 * over that data, what to measure and check, and optionally the same
 * workload written with other tools (peers). `scenario()` validates a
 * definition and brands it, so `sluice bench my.bench.ts` can find the
 * scenarios a file exports. A scenario is a value: defining one does no I/O.
 */
import { ConfigError } from "../pipeline/errors.ts";
import type { Pipeline } from "../pipeline/pipeline.ts";
import type { RunSummary } from "../pipeline/run.ts";
import type { RuntimeName } from "../runtime/detect.ts";
import { importModule } from "../runtime/process.ts";

export const ScenarioTypeId: unique symbol = Symbol.for("sluice/BenchScenario") as never;

/** Named sizes; `--scale` also takes a row count. */
export type ScaleName = "tiny" | "small" | "full";

/** What a data generator is given. */
export interface GenerateContext {
  /** Records to generate. */
  readonly rows: number;
  /** Same seed, same bytes. */
  readonly seed: number;
  readonly scale: ScaleName | "rows";
  /** A directory reserved for this scenario, row count and seed; its files are kept between runs. */
  readonly dir: string;
  /**
   * Writes `name` in `dir` from text pieces unless it exists (through a temporary
   * file, so an interrupted generation never leaves a partial file); returns its path.
   */
  file(name: string, pieces: Iterable<string> | AsyncIterable<string>): Promise<string>;
}

/** What a pipeline factory and a peer are given, in the measuring process. */
export interface BenchContext {
  readonly rows: number;
  /** A scratch directory for this measurement's output (removed afterwards). */
  readonly outDir: string;
  /** The state directory for this measurement's sluice runs. */
  readonly home: string;
  readonly runtime: RuntimeName;
  /** Monotonic milliseconds (the clock latencies are measured on). */
  now(): number;
  /** Records the latency of one unit of work (a chunk, a batch, a record) that started at `startedAt`. */
  latency(startedAt: number): void;
  /** Reports records processed so far (for throughput over time). Sluice pipelines are counted by the engine. */
  progress(rows: number): void;
  /** Sets the digest of this implementation's output (implementations of a scenario must agree on it). */
  digest(value: unknown): void;
  /** An extra figure for the results, e.g. events written. */
  metric(name: string, value: number, options?: { unit?: string; better?: "higher" | "lower" }): void;
}

/** What one implementation did with the data. */
export interface Outcome {
  /** Records read. */
  readonly rowsIn: number;
  /** Records (or groups) produced. */
  readonly rowsOut: number;
  /** Records rejected (invalid, failed after retries). */
  readonly deadLettered?: number;
  /** A digest of the output (see {@link digestOf}); implementations must agree on it. */
  readonly digest?: string;
}

/** The workload written with another tool. */
export interface Peer<D> {
  (data: D, ctx: BenchContext): Promise<Outcome>;
  /** Untimed preparation in the measuring process (e.g. building input in memory), as a pipeline factory is. */
  setup?: (data: D, ctx: BenchContext) => void | Promise<void>;
}

/** A peer loaded only when it runs (its libraries are not imported otherwise). */
export interface LazyPeer<D> {
  readonly load: () => Promise<Peer<D>>;
  /** The module's URL and export: a measuring process imports it without loading the scenario. */
  readonly href?: string;
  readonly exportName?: string;
}

export interface Measure<D> {
  /** Records the generated data holds (default: the row count asked for). Throughput is rows / wall time. */
  rows?(data: D): number;
  /**
   * What the sluice run produced (default: counts from its summary and the digest
   * set through the context). Called after the clock stops: reading output back is not timed.
   */
  outcome?(summary: RunSummary, data: D, ctx: BenchContext): Outcome | Promise<Outcome>;
  /** Checks any implementation's outcome against the data; returns what is wrong, or undefined. */
  check?(outcome: Outcome, data: D): string | undefined;
  /**
   * Memory cap in MiB: every implementation runs with `--max-old-space-size` at this
   * value (Node, Deno), and peak RSS is reported against it (all runtimes).
   */
  memoryCapMb?: number | ((rows: number) => number);
  /** Run sluice with a journal (as `sluice run` does): resumable, checkpoints made durable. */
  journal?: boolean;
  /**
   * Kill the sluice process (SIGKILL) after this many durable checkpoints and
   * resume it once in a new process; implies `journal`.
   */
  killAfterCheckpoints?: number;
  /** Write the run's events to a metrics store (DuckDB) while it runs, as `sluice run` does. */
  metricsStore?: boolean;
  /** Give up on one measurement after this long (default 10 minutes). */
  timeoutMs?: number;
}

export interface ScenarioDefinition<D> {
  /** Letters, digits, `-` and `_`. */
  readonly name: string;
  readonly description?: string;
  /** Rows per named scale (default tiny 1 000, small 100 000, full 1 000 000). */
  readonly sizes?: Partial<Readonly<Record<ScaleName, number>>>;
  /** Writes or returns the input for a row count and seed; deterministic; the result must be JSON. */
  generate(ctx: GenerateContext): D | Promise<D>;
  /** The sluice pipeline over the data (with its sink). */
  pipeline(data: D, ctx: BenchContext): Pipeline<unknown> | Promise<Pipeline<unknown>>;
  readonly measure?: Measure<D>;
  /** The same workload with other tools, by name. */
  readonly peers?: Readonly<Record<string, Peer<D> | LazyPeer<D>>>;
  /** Why the scenario cannot run here (e.g. an operator it needs is missing), or undefined. */
  unavailable?(): string | undefined | Promise<string | undefined>;
}

export interface Scenario<D = unknown> extends ScenarioDefinition<D> {
  readonly [ScenarioTypeId]: true;
  readonly sizes: Readonly<Record<ScaleName, number>>;
  readonly measure: Measure<D>;
  readonly peers: Readonly<Record<string, Peer<D> | LazyPeer<D>>>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const DEFAULT_SIZES: Readonly<Record<ScaleName, number>> = { tiny: 1_000, small: 100_000, full: 1_000_000 };

/**
 * Defines a benchmark scenario for `sluice bench`.
 *
 * @example
 * ```ts
 * import { pipeline } from "sluice";
 * import { digestOf, scenario } from "sluice/bench";
 * import { filter } from "sluice/operators";
 * import { ndjson } from "sluice/sinks";
 * import { iterable } from "sluice/sources";
 *
 * export default scenario({
 *   name: "evens",
 *   generate: ({ rows }) => ({ rows }),
 *   pipeline: (d, ctx) =>
 *     pipeline("evens")
 *       .from(iterable(() => Array.from({ length: d.rows }, (_, i) => i)))
 *       .via(filter((n: number) => n % 2 === 0))
 *       .to(ndjson(`${ctx.outDir}/evens.ndjson`)),
 *   peers: {
 *     "plain-loop": async (d) => {
 *       let n = 0;
 *       for (let i = 0; i < d.rows; i++) if (i % 2 === 0) n++;
 *       return { rowsIn: d.rows, rowsOut: n };
 *     },
 *   },
 * });
 * ```
 */
export function scenario<D>(definition: ScenarioDefinition<D>): Scenario<D> {
  const d = definition;
  if (typeof d !== "object" || d === null) throw new ConfigError("scenario(): pass a definition object");
  if (typeof d.name !== "string" || !NAME.test(d.name)) {
    throw new ConfigError(`scenario(): name ${JSON.stringify(d.name)} is not valid`, {
      hint: "Use 1-64 letters, digits, '-' or '_', starting with a letter or digit.",
    });
  }
  for (const f of ["generate", "pipeline"] as const) {
    if (typeof d[f] !== "function") {
      throw new ConfigError(`scenario "${d.name}": ${f} must be a function`);
    }
  }
  const sizes = { ...DEFAULT_SIZES, ...(d.sizes ?? {}) };
  for (const [k, v] of Object.entries(sizes)) {
    if (!Number.isInteger(v) || v < 1) {
      throw new ConfigError(`scenario "${d.name}": sizes.${k} must be a positive integer, got ${String(v)}`);
    }
  }
  const peers = { ...(d.peers ?? {}) };
  for (const [name, p] of Object.entries(peers)) {
    if (!NAME.test(name) || name === "sluice") {
      throw new ConfigError(`scenario "${d.name}": peer name ${JSON.stringify(name)} is not valid`, {
        hint: 'Use letters, digits, "-" or "_"; "sluice" names the pipeline itself.',
      });
    }
    if (typeof p !== "function" && typeof (p as LazyPeer<D>)?.load !== "function") {
      throw new ConfigError(`scenario "${d.name}": peer "${name}" must be a function or peerModule(...)`);
    }
  }
  return Object.freeze({ ...d, [ScenarioTypeId]: true as const, sizes, measure: d.measure ?? {}, peers });
}

export function isScenario(u: unknown): u is Scenario<unknown> {
  return typeof u === "object" && u !== null && ScenarioTypeId in u;
}

/**
 * A peer in its own module, imported only when it runs, so a scenario file
 * does not load every peer's libraries. The export must be a {@link Peer}.
 *
 * @example
 * ```ts
 * peers: { papaparse: peerModule(new URL("./peers/etl-papaparse.ts", import.meta.url)) }
 * ```
 */
export function peerModule<D>(url: URL | string, exportName = "default"): LazyPeer<D> {
  const href = url instanceof URL ? url.href : url;
  return {
    href,
    exportName,
    async load() {
      const mod = await importModule(href);
      const fn = mod[exportName];
      if (typeof fn !== "function") {
        throw new ConfigError(`peer module ${href} has no function export "${exportName}"`);
      }
      return fn as Peer<D>;
    },
  };
}

/** Resolves a peer (loading its module if lazy). */
export async function loadPeer<D>(p: Peer<D> | LazyPeer<D>): Promise<Peer<D>> {
  return typeof p === "function" ? p : p.load();
}

/** Rows for a scale on a scenario. */
export function rowsFor(s: Scenario<unknown>, scale: ScaleName | number): number {
  return typeof scale === "number" ? scale : s.sizes[scale];
}

/**
 * A short, stable digest of a JSON-able value (FNV-1a over canonical JSON with
 * sorted object keys): implementations of a scenario compare outputs with it.
 *
 * @example
 * ```ts
 * digestOf({ b: 1, a: [1, 2] }) === digestOf({ a: [1, 2], b: 1 }); // true: key order does not matter
 * ```
 */
export function digestOf(value: unknown): string {
  const text = canonical(value);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0");
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v instanceof Map)
    return canonical(Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), x])));
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  if (typeof v === "bigint") return v.toString();
  return JSON.stringify(v) ?? "null";
}
