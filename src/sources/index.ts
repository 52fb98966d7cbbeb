/**
 * @module Public sources (`sluice/sources`).
 */
export { type IterableOptions, iterable } from "./iterable.ts";
