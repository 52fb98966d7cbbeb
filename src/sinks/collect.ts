/**
 * @module The in-memory `collect` sink. It is implemented in the pipeline layer
 * (`pipeline/internal/collect-sink.ts`) because `runCollect` there runs into it.
 */
export { type CollectSink, collect } from "../pipeline/internal/collect-sink.ts";
