/**
 * @module The pipeline builder: `pipeline(name).from(source).via(...ops).to(sink)`.
 * A pipeline is an immutable value (each call returns a new one), so a base
 * pipeline can be extended in several ways and nothing runs until a terminal
 * (`runPipeline`, `runCollect`, `sluice run`) is called.
 */
import type { AdaptiveOptions } from "./adaptive-options.ts";
import { type AlertConfigInput, resolveAlertConfig } from "./alert-rules.ts";
import { ConfigError, MetricsConfigError } from "./errors.ts";
import { isOperator, isSink, isSource, type Operator, type Sink, type Source } from "./types.ts";
import type { Duration, Size } from "./units.ts";
import type { Via } from "./via.ts";

export const PipelineTypeId: unique symbol = Symbol.for("sluice/Pipeline") as never;

export interface PipelineOptions {
  /** Checkpoint barriers: every `every` (default "1s") and/or every `rows` source rows. `false` turns them off. */
  readonly checkpoint?: { readonly every?: Duration; readonly rows?: number } | false;
  /** What a failing user function does: `"dead-letter"` (default) or `"fail"` the run. */
  readonly onError?: "dead-letter" | "fail";
  /** Interval of per-stage metrics events; default "1s". */
  readonly metricsInterval?: Duration;
  /**
   * The run journal (`sluice run`, `runJournaled`): `fsync` is `"checkpoint"`
   * (default: at each checkpoint), `"interval"` (also every `fsyncInterval`)
   * or `"always"` (every event); `--fsync` overrides it.
   */
  readonly journal?: {
    readonly fsync?: "always" | "checkpoint" | "interval";
    readonly fsyncInterval?: Duration;
    readonly segmentSize?: Size;
  };
  /**
   * Settings of adaptive configuration, used when a run is adaptive
   * (`sluice run --adaptive`, `runPipeline(p, { plugins: [adaptive()] })`); they do
   * not turn it on.
   */
  readonly adaptive?: AdaptiveOptions;
  /**
   * Alert rules for this pipeline's runs, merged over the defaults (see
   * `DEFAULT_RULES`): e.g. `{ rules: { p99LatencyMs: { warning: 200, critical: 800 } } }`
   * or `{ rules: { queueDepth: { enabled: false } } }`. `sluice run` (and
   * `--serve`) evaluate them; checked when the pipeline is defined.
   */
  readonly alerts?: AlertConfigInput;
}

/** Names that reach file paths, URLs and SQL: letters, digits, `_ . : -`. */
export const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;

export interface Pipeline<A> extends Via<A> {
  readonly [PipelineTypeId]: true;
  readonly name: string;
  readonly options: PipelineOptions;
  readonly source: Source<unknown>;
  readonly operators: ReadonlyArray<Operator<unknown, unknown>>;
  readonly sink?: Sink<A>;
  /** Sets where records go. */
  to(sink: Sink<A>): Pipeline<A>;
  /** Returns a copy with other options. */
  withOptions(options: PipelineOptions): Pipeline<A>;
}

export interface PipelineStart {
  readonly name: string;
  from<A>(source: Source<A>): Pipeline<A>;
}

/**
 * Starts a pipeline definition.
 *
 * @example
 * ```ts
 * import { pipeline } from "sluice";
 * import { csv } from "sluice/sources";
 * import { filter } from "sluice/operators";
 * import { ndjson } from "sluice/sinks";
 *
 * export default pipeline("orders")
 *   .from(csv("data/orders.csv"))
 *   .via(filter((r) => r.category !== "test"))
 *   .to(ndjson("out/orders.ndjson"));
 * ```
 */
export function pipeline(name: string, options: PipelineOptions = {}): PipelineStart {
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    throw new ConfigError(`pipeline name ${JSON.stringify(name)} is not valid`, {
      hint: "Use 1-128 letters, digits, '_', '.', ':' or '-', starting with a letter, digit or '_'.",
    });
  }
  if (/^metrics\.duckdb/i.test(name)) {
    throw new ConfigError(
      `pipeline name ${JSON.stringify(name)} is the metrics store's file in the state directory`,
      {
        hint: "Choose another name: a pipeline's runs are kept in a directory of its name beside metrics.duckdb.",
      },
    );
  }
  checkOptions(name, options);
  return {
    name,
    from<A>(source: Source<A>): Pipeline<A> {
      if (!isSource(source)) {
        throw new ConfigError(
          `pipeline "${name}": .from() takes a source (csv(...), ndjson(...), iterable(...))`,
        );
      }
      return make<A>(name, options, source as Source<unknown>, [], undefined);
    },
  };
}

function make<A>(
  name: string,
  options: PipelineOptions,
  source: Source<unknown>,
  operators: ReadonlyArray<Operator<unknown, unknown>>,
  sink: Sink<A> | undefined,
): Pipeline<A> {
  return {
    [PipelineTypeId]: true,
    name,
    options,
    source,
    operators,
    sink,
    via(...ops: Array<Operator<unknown, unknown>>) {
      ops.forEach((op, i) => {
        if (!isOperator(op)) {
          throw new ConfigError(
            `pipeline "${name}": argument ${i + 1} of .via() is not an operator (got ${typeof op})`,
            { hint: "Pass operators such as map(fn), filter(fn) or rx(op) from sluice/operators." },
          );
        }
      });
      // biome-ignore lint/suspicious/noExplicitAny: the overloads above carry the types
      return make<any>(name, options, source, [...operators, ...ops], undefined);
    },
    to(s: Sink<A>) {
      if (!isSink(s)) {
        throw new ConfigError(`pipeline "${name}": .to() takes a sink (ndjson(...), csv(...), collect())`);
      }
      return make<A>(name, options, source, operators, s);
    },
    withOptions(o: PipelineOptions) {
      checkOptions(name, o);
      return make<A>(name, { ...options, ...o }, source, operators, sink);
    },
  } as Pipeline<A>;
}

/** Options checked when a pipeline is defined, so a bad one fails before any run starts. */
function checkOptions(name: string, options: PipelineOptions): void {
  if (options.alerts === undefined) return;
  try {
    resolveAlertConfig(options.alerts);
  } catch (e) {
    if (!(e instanceof MetricsConfigError)) throw e;
    throw new ConfigError(`pipeline "${name}": ${e.message}`, {
      hint: "See the alert rules in docs/metrics.md (rule names, warning ≤ critical, for/clearFor ≥ 1).",
    });
  }
}

export function isPipeline(u: unknown): u is Pipeline<unknown> {
  return typeof u === "object" && u !== null && PipelineTypeId in u;
}

/** Stage names: `<index>:<operator>` — unique, stable for the same definition. */
export function stageNames(p: Pipeline<unknown>): string[] {
  return p.operators.map((op, i) => `${i + 1}:${op.name}`);
}
