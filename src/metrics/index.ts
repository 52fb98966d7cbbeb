/**
 * @module The metrics layer's public surface (DESIGN §4): the DuckDB-backed
 * store, live projections, alert rules, and the analyses (bottlenecks,
 * recommendations, baselines, regressions) the CLI and the HTTP API serve.
 */
export {
  type ActiveAlert,
  type AlertConfig,
  type AlertConfigInput,
  AlertConfigSchema,
  AlertEngine,
  type AlertEngineOptions,
  type AlertRule,
  type AlertsHandle,
  attachAlerts,
  DEFAULT_RULES,
  RULES,
  type RuleName,
  resolveAlertConfig,
} from "./alerts.ts";
export {
  type Baseline,
  type BaselineQuery,
  type BenchResult,
  type Better,
  type MetricBaseline,
  type RegressionCheck,
  type RegressionOptions,
  type RegressionReport,
  RUN_METRICS,
} from "./baselines.ts";
export {
  type Bottleneck,
  type BottleneckOptions,
  type BottleneckReport,
  findBottlenecks,
  type StageLoad,
} from "./bottlenecks.ts";
export { type Bound, boundBy, CPU_BOUND_SHARE, IO_BOUND_SHARE } from "./bound.ts";
export type { ClusterWorkerRecord } from "./cluster-workers.ts";
export {
  MetricsConfigError,
  type MetricsError,
  MetricsLockedError,
  MetricsNotFoundError,
  MetricsQueryError,
  MetricsSchemaError,
  MetricsStateError,
  MetricsWriteError,
} from "./errors.ts";
export { BUCKET_BOUNDS_MS, bucketIndex, Histogram } from "./histogram.ts";
export {
  DEFAULT_WINDOWS,
  type LiveFigures,
  LiveProjection,
  type LiveStage,
  type ProjectionWindows,
} from "./projection.ts";
export { type Recommendation, type RecommendationOptions, recommend } from "./recommendations.ts";
export {
  type AttachOptions,
  type HighWaterMark,
  type IngestEvent,
  type IngestOptions,
  type IngestResult,
  MetricsStore,
  type MetricsStoreOptions,
  metricsEnabled,
  metricsPath,
  openMetricsStore,
  type PruneResult,
  type UserQueryOptions,
  type WriterStats,
} from "./store.ts";
export type {
  AlertRecord,
  ConfigChangeRecord,
  ResourceFigures,
  RunInfo,
  RunReport,
  StageFigures,
} from "./summary.ts";
export {
  computeTrends,
  TREND_FLAT,
  TREND_MIN_RUNS,
  TREND_RUNS,
  type Trend,
  type TrendDirection,
  type TrendMetric,
  type TrendQuery,
} from "./trends.ts";
