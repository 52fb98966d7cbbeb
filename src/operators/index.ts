/**
 * @module Public operators (`sluice/operators`).
 */
export { filter } from "./filter.ts";
export { flatMap } from "./flat-map.ts";
export { type MaybeAsync, makeOperator } from "./internal/operator.ts";
export { map } from "./map.ts";
export { tap } from "./tap.ts";
