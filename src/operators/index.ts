/**
 * @module Public operators (`sluice/operators`).
 */
export { type AggregateOptions, type AggregateResult, type AggregateSpec, aggregate } from "./aggregate.ts";
export { type DedupeOptions, dedupe, type Key } from "./dedupe.ts";
export { filter } from "./filter.ts";
export { flatMap } from "./flat-map.ts";
export { type MaybeAsync, makeOperator } from "./internal/operator.ts";
export { map } from "./map.ts";
export { tap } from "./tap.ts";
