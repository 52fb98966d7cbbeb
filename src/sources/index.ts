/**
 * @module Public sources (`sluice/sources`).
 */

export { CsvSourceOptions, csv } from "./csv.ts";
export { type IterableOptions, iterable } from "./iterable.ts";
