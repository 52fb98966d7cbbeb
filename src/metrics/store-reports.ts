/**
 * @module The read side of the metrics store: reports computed from its
 * views (run summary, bottlenecks, recommendations, trends, baselines,
 * regressions) on one reader connection, one query at a time.
 * `MetricsStore` extends it.
 */
import type { Connection } from "../duckdb/client.ts";
import { cpuCount } from "../runtime/process.ts";
import {
  type Baseline,
  type BaselineQuery,
  computeBaseline,
  type RegressionOptions,
  type RegressionReport,
  runRegressions,
  scenarioRegressions,
} from "./baselines.ts";
import { type BottleneckOptions, type BottleneckReport, findBottlenecks } from "./bottlenecks.ts";
import { MetricsStateError } from "./errors.ts";
import { Mutex } from "./internal/mutex.ts";
import { type Recommendation, type RecommendationOptions, recommend } from "./recommendations.ts";
import { type RunReport, runSummary } from "./summary.ts";
import { computeTrends, type Trend, type TrendQuery } from "./trends.ts";

export class MetricsReports {
  readonly #reader: Connection;
  readonly #readLock = new Mutex();
  #closed = false;

  protected constructor(
    readonly path: string,
    reader: Connection,
  ) {
    this.#reader = reader;
  }

  protected get closed(): boolean {
    return this.#closed;
  }

  protected requireOpen(): void {
    if (this.#closed) throw new MetricsStateError(`The metrics store ${this.path} is closed; open it again.`);
  }

  /** Marks the store closed and closes the reader once its query in progress is done. */
  protected async closeReader(): Promise<void> {
    this.#closed = true;
    await this.#readLock.run(async () => this.#reader.close());
  }

  protected read<T>(fn: (db: { all: Connection["all"] }) => Promise<T>): Promise<T> {
    this.requireOpen();
    return this.#readLock.run(() => fn(this.#reader));
  }

  /** Everything about one run; undefined if the store has no event of it. */
  summary(runId: string): Promise<RunReport | undefined> {
    return this.read((db) => runSummary(db, runId));
  }

  /** The stage that limits the run's throughput, with evidence; undefined for an unknown run. */
  async bottlenecks(runId: string, options?: BottleneckOptions): Promise<BottleneckReport | undefined> {
    const report = await this.summary(runId);
    return report ? findBottlenecks(report, options) : undefined;
  }

  /** Settings to change, derived from the run's figures; undefined for an unknown run. */
  async recommendations(
    runId: string,
    options: Partial<RecommendationOptions> & BottleneckOptions = {},
  ): Promise<Recommendation[] | undefined> {
    const report = await this.summary(runId);
    if (!report) return undefined;
    return recommend(report, findBottlenecks(report, options), { cores: cpuCount(), ...options });
  }

  /** Where throughput, p99 and peak RSS are heading over a pipeline's last N runs (`trends.ts`). */
  trends(query?: TrendQuery): Promise<Trend[]> {
    return this.read((db) => computeTrends(db, query));
  }

  /** Median figures of the last N comparable runs of a pipeline, or of a scenario's results. */
  baselines(query: BaselineQuery): Promise<Baseline | null> {
    return this.read((db) => computeBaseline(db, query));
  }

  /**
   * A run against the median of the comparable runs before it, or a
   * scenario's latest (or given) results against its earlier ones.
   */
  regressions(
    target:
      | { readonly runId: string }
      | {
          readonly scenario: string;
          readonly runtime?: string;
          readonly host?: string;
          readonly runId?: string;
          readonly metrics?: Readonly<Record<string, number>>;
        },
    options?: RegressionOptions,
  ): Promise<RegressionReport> {
    return this.read((db) =>
      "scenario" in target
        ? scenarioRegressions(db, target.scenario, target, options)
        : runRegressions(db, target.runId, options),
    );
  }
}
