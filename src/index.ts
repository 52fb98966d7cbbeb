/**
 * @module The `sluice` entry point: the pipeline builder, terminals, core
 * types, events and errors.
 */

export { EventBus, type Subscriber, type Subscription } from "./events/bus.ts";
export {
  type ClusterWorkerTotals,
  emptyRunState,
  projectRun,
  RunProjection,
  type RunState,
  type StageState,
} from "./events/projection.ts";
export * from "./events/schema.ts";
export {
  type JournaledRunOptions,
  journal,
  type ResumeInfo,
  type RunJournalOptions,
  runJournaled,
} from "./journal/run-journal.ts";
export {
  type JournaledEvent,
  listRuns,
  type ReadRunEventsOptions,
  type RunInfo,
  type RunStatus,
  readRunEvents,
  replayRun,
} from "./journal/runs.ts";
export type { AdaptiveOptions } from "./metrics/adaptive.ts";
export { adaptive } from "./metrics/adaptive-plugin.ts";
export { type AlertsPlugin, alerts } from "./metrics/alerts-plugin.ts";
export { type RunFigures, runSummaries } from "./metrics/run-summaries.ts";
export { type Barrier, type Chunk, makeChunk, type SourceOffset, withRecords } from "./pipeline/chunk.ts";
export { runCollect, runDrain } from "./pipeline/collect.ts";
export {
  CancelledError,
  ConfigError,
  describeError,
  isSluiceError,
  PipelineLoadError,
  SinkError,
  type SluiceError,
  SourceError,
  StageError,
  StateError,
} from "./pipeline/errors.ts";
export type { StageTotals } from "./pipeline/internal/meter.ts";
export {
  isPipeline,
  type Pipeline,
  type PipelineOptions,
  pipeline,
  stageNames,
} from "./pipeline/pipeline.ts";
export {
  definitionHash,
  newRunId,
  type ResumePoint,
  type RunOptions,
  type RunSummary,
  runPipeline,
  type SideOutputSummary,
  stateHome,
} from "./pipeline/run.ts";
export { type ToObservableOptions, toObservable } from "./pipeline/to-observable.ts";
export type {
  CommitToken,
  Committed,
  DeadLetterInput,
  Operator,
  RunContext,
  SideOutput,
  Sink,
  SinkContext,
  SinkWriter,
  Source,
  SourceContext,
  Stage,
  StageContext,
  StageHooks,
  StageImpl,
} from "./pipeline/types.ts";
export { OperatorTypeId, SinkTypeId, SourceTypeId } from "./pipeline/types.ts";
export { type Duration, type Size, toBytes, toMillis } from "./pipeline/units.ts";
export { type Clock, systemClock } from "./runtime/clock.ts";
