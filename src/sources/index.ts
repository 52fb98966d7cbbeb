/**
 * @module Public sources (`sluice/sources`).
 */

export { CsvSourceOptions, csv } from "./csv.ts";
export { ExcelSourceOptions, excel } from "./excel.ts";
export { FromObservableOptions, fromObservable } from "./from-observable.ts";
export { type IterableOptions, iterable } from "./iterable.ts";
export { JetStreamSourceOptions, jetstream } from "./jetstream.ts";
export { JsonSourceOptions, json } from "./json.ts";
export { NdjsonSourceOptions, ndjson } from "./ndjson.ts";
export { ParquetSourceOptions, parquet } from "./parquet.ts";
