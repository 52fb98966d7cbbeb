/**
 * @module Benchmark scenarios (`sluice/bench`): define a scenario — a data
 * generator, a pipeline, what to measure and the same workload written with
 * other tools — and run it with `sluice bench path/to/my.bench.ts`, or
 * programmatically with `runBench`. The statistics the runner reports are
 * exported too, for scripts that post-process `sluice bench --json`.
 */
export type { ChildReport, LatencySummary, Sample } from "./protocol.ts";
export {
  type BaselineComparison,
  type BenchResultJson,
  compareWithBaseline,
  DEFAULT_TOLERANCES,
  type Tolerances,
} from "./results.ts";
export {
  type BenchOptions,
  type BenchProgress,
  type BenchRun,
  type Measurement,
  type ResultSummary,
  runBench,
} from "./runner.ts";
export {
  type BenchContext,
  digestOf,
  type GenerateContext,
  isScenario,
  type LazyPeer,
  type Measure,
  type Outcome,
  type Peer,
  peerModule,
  type ScaleName,
  type Scenario,
  type ScenarioDefinition,
  scenario,
} from "./scenario.ts";
export { builtinScenarios } from "./scenarios/index.ts";
export {
  type Better,
  checkRegression,
  median,
  pairedRatios,
  percentile,
  type RegressionVerdict,
  type Spread,
  spread,
} from "./stats.ts";
